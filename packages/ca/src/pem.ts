// PEM <-> DER without any ASN.1 parsing, so that digests and file checks stay synchronous
// and dependency-free. RFC 7468 (textual encodings of PKIX structures).

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** All PEM blocks in `text`, in order. Text outside blocks is ignored, as openssl does. */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new Error(`malformed PEM: the ${m[1]} block is not base64`);
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/**
 * The DER bytes of the single `label` block in `pem`. `what` names the thing for the error
 * message ("root CA certificate"). Exactly one block is required: a bundle where one
 * certificate is expected is a mistake we want to hear about, never to guess through.
 */
export function pemToDer(pem: string, label: string, what: string): Uint8Array {
  const blocks = decodePemBlocks(pem);
  if (blocks.length !== 1 || blocks[0]!.label !== label) {
    const found = blocks.length === 0 ? 'no PEM block' : blocks.map((b) => b.label).join(', ');
    throw new Error(`${what} must be exactly one PEM "${label}" block, found: ${found}`);
  }
  return blocks[0]!.der;
}

export function derToPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
