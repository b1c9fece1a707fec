// The one place that loads @peculiar/x509 and the key helpers built on WebCrypto.
// Every other module imports `x509` from here, so the shim and the crypto provider are
// always in place before the library is used.
// @peculiar/x509 builds its algorithm registry with tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { derToPem, pemToDer } from './pem.js';

// Node's WebCrypto is complete for ECDSA P-256; we pass it explicitly as the default.
x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);

export { x509 };

/**
 * Every key in a cluster is ECDSA P-256 signing with SHA-256, like Swarm: small
 * certificates, fast handshakes, and supported by every TLS stack we talk to.
 */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export type KeyPair = webcrypto.CryptoKeyPair;

export async function generateKeyPair(): Promise<KeyPair> {
  // Extractable: the private key is written to the data dir (PKCS#8 PEM).
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']) as Promise<KeyPair>;
}

/** PKCS#8 PEM ("PRIVATE KEY"), the form Node's TLS and `openssl` read directly. */
export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return derToPem(new Uint8Array(der), 'PRIVATE KEY');
}

export async function importSigningKey(keyPem: string): Promise<webcrypto.CryptoKey> {
  const der = pemToDer(keyPem, 'PRIVATE KEY', 'CA private key');
  try {
    return await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
  } catch (e) {
    throw new Error(`CA private key is not an ECDSA P-256 PKCS#8 key (${(e as Error).message})`);
  }
}

/**
 * A positive 127-bit serial number in hex. RFC 5280 §4.1.2.2 wants serials unique per CA
 * and at most 20 octets; random serials give uniqueness without coordinating a counter
 * across managers. The top bit is cleared (DER integers are signed) and the next one set,
 * so the encoding is always exactly 16 octets with no leading zero byte to strip.
 */
export function randomSerialHex(randomBytes: (n: number) => Uint8Array): string {
  const b = Uint8Array.from(randomBytes(16));
  if (b.length !== 16) throw new Error('randomBytes(16) must return 16 bytes');
  b[0] = (b[0]! & 0x7f) | 0x40;
  return Buffer.from(b).toString('hex');
}
