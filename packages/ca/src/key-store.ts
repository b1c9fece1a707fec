// The node's TLS material in the data dir, laid out as Swarm does:
//   <dataDir>/certificates/swarm-node.key     0600  the node's private key (PKCS#8 PEM)
//   <dataDir>/certificates/swarm-node.crt     0644  its certificate
//   <dataDir>/certificates/swarm-root-ca.crt  0644  the cluster root CA it trusts
//
// Crash safety. Each file is replaced by rename, which is atomic, but three renames are
// not. So `save` works in two phases:
//   1. write all three as `<name>.new`, fsync each, fsync the directory;
//   2. rename each over its live name, fsync the directory.
// No rename starts before every `.new` file is durable. So on `load`, if `.new` files exist,
// either phase 1 was cut short (no rename happened; the `.new` set is incomplete or
// inconsistent, and the live files are intact) or phase 2 was (the `.new` files plus the
// live files already renamed form the complete new set). `load` tells the two apart by
// checking that key, certificate and CA belong together, and rolls forward or discards.
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeIdentity } from './identity.js';
import { checkTlsIdentity, TlsIdentity } from './tls.js';

export const CERTIFICATES_DIR = 'certificates';
export const NODE_KEY_FILE = 'swarm-node.key';
export const NODE_CERT_FILE = 'swarm-node.crt';
export const ROOT_CA_FILE = 'swarm-root-ca.crt';
const NEW_SUFFIX = '.new';

/** The private key is readable by root only; certificates are public. */
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;
const DIR_MODE = 0o700;

type Field = keyof TlsIdentity;
const FILES: ReadonlyArray<{ field: Field; name: string; mode: number }> = [
  // The CA first: a new CA with old node files still verifies nothing, so roll-forward
  // (which needs a consistent set) is the only way out of a half-done save.
  { field: 'caPem', name: ROOT_CA_FILE, mode: CERT_MODE },
  { field: 'keyPem', name: NODE_KEY_FILE, mode: KEY_MODE },
  { field: 'certPem', name: NODE_CERT_FILE, mode: CERT_MODE },
];

export interface StoredNodeCredentials extends TlsIdentity {
  identity: NodeIdentity;
}

export class NodeKeyStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, CERTIFICATES_DIR);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * The stored credentials, or null when the node has none (it has not joined). Throws when
   * only some files exist or they do not belong together, saying how to recover.
   */
  async load(): Promise<StoredNodeCredentials | null> {
    await this.recover();
    const live = await this.readSet('');
    const present = FILES.filter((f) => live[f.field] !== undefined);
    if (present.length === 0) return null;
    if (present.length < FILES.length) {
      const missing = FILES.filter((f) => live[f.field] === undefined).map((f) => f.name);
      throw new Error(`${this.dir} is incomplete (missing ${missing.join(', ')}); remove the directory and join the swarm again`);
    }
    const id = live as TlsIdentity;
    try {
      return { ...id, identity: checkTlsIdentity(id) };
    } catch (e) {
      throw new Error(`${this.dir} holds unusable credentials: ${(e as Error).message}`);
    }
  }

  /** Replaces all three files, crash-safely (see the top of this file). */
  async save(creds: TlsIdentity): Promise<void> {
    checkTlsIdentity(creds); // never persist a set that load() would refuse
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    for (const f of FILES) await writeDurably(this.path(f.name + NEW_SUFFIX), creds[f.field], f.mode);
    await fsyncDir(this.dir);
    await this.commit();
  }

  private async commit(): Promise<void> {
    for (const f of FILES) {
      const from = this.path(f.name + NEW_SUFFIX);
      if (await exists(from)) await rename(from, this.path(f.name));
    }
    await fsyncDir(this.dir);
  }

  /** Finishes or discards a save that a crash interrupted. */
  private async recover(): Promise<void> {
    const pending = await this.readSet(NEW_SUFFIX);
    if (FILES.every((f) => pending[f.field] === undefined)) return;
    const live = await this.readSet('');
    const merged: Partial<TlsIdentity> = { ...live, ...pending };
    let consistent = false;
    try {
      if (FILES.every((f) => merged[f.field] !== undefined)) {
        checkTlsIdentity(merged as TlsIdentity);
        consistent = true;
      }
    } catch {
      consistent = false;
    }
    if (consistent) {
      await this.commit();
    } else {
      for (const f of FILES) await rm(this.path(f.name + NEW_SUFFIX), { force: true });
      await fsyncDir(this.dir);
    }
  }

  private async readSet(suffix: string): Promise<Partial<TlsIdentity>> {
    const out: Partial<TlsIdentity> = {};
    for (const f of FILES) {
      const text = await readIfExists(this.path(f.name + suffix));
      if (text !== undefined) out[f.field] = text;
    }
    return out;
  }
}

async function writeDurably(path: string, data: string, mode: number): Promise<void> {
  const fh = await open(path, 'w', mode);
  try {
    // open's mode only applies when the file is created and is masked by the umask;
    // chmod makes the mode exact even over a leftover file.
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
