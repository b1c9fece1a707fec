// The BpfLoader contract and its one implementation, the N-API addon `tswarm_bpf`
// (packages/network/native/bpf.c, built by node-gyp at `npm ci`; binding.gyp).
//
// Contract:
// - loadSchedCls(name, insns) loads a BPF_PROG_TYPE_SCHED_CLS program and returns its file
//   descriptor, owned by the caller (close it when done; a tc filter that holds the program
//   keeps it alive). A refused program throws BpfLoadError, whose message ends with the
//   verifier's last words and whose `log` has the whole verifier log.
// - pin(fd, path) pins the program on a bpffs mount (for `tc … object-pinned PATH`); the
//   caller unlinks the path when tc has taken the program.
// - close(fd). Calls are synchronous and may be made from anywhere (no state).
import { closeSync } from 'node:fs';
import { endianness } from 'node:os';
import { loadAddon } from '../addons.js';

export interface BpfLoader {
  loadSchedCls(name: string, insns: Buffer): number;
  pin(fd: number, path: string): void;
  close(fd: number): void;
}

/** A program the kernel refused; `log` is the verifier's log (may be empty, e.g. EPERM). */
export class BpfLoadError extends Error {
  constructor(message: string, readonly code: string, readonly log: string) {
    super(message);
    this.name = 'BpfLoadError';
  }
}

/** The program license. None of the helpers used is GPL-only; this is the project's licence. */
const LICENSE = 'Apache-2.0';

interface Addon {
  progLoad(insns: Buffer, license: string, name: string): number;
  objPin(fd: number, path: string): void;
}

/** The last non-empty lines of a verifier log, on one line. */
export function verifierSummary(log: string, lines = 3): string {
  return log.split('\n').map((l) => l.trim()).filter(Boolean).slice(-lines).join(' | ');
}

/** The addon-backed loader; throws (one line) when the addon is missing or not loadable. */
export function nativeLoader(): BpfLoader {
  const addon = loadAddon<Addon>('tswarm_bpf', 'eBPF');
  if (endianness() !== 'LE') throw new Error('the eBPF fast path assembles little-endian programs; this host is big-endian');
  return {
    loadSchedCls(name, insns) {
      try {
        return addon.progLoad(insns, LICENSE, name);
      } catch (e) {
        const err = e as Error & { code?: string; log?: string };
        const log = err.log ?? '';
        throw new BpfLoadError(`${err.message}${log ? ` (verifier: ${verifierSummary(log)})` : ''}`, err.code ?? 'EUNKNOWN', log);
      }
    },
    pin(fd, path) {
      addon.objPin(fd, path);
    },
    close(fd) {
      closeSync(fd);
    },
  };
}
