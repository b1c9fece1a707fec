import os from 'node:os';
import { readFileSync } from 'node:fs';
import { GATEWAY_BRIDGE } from '@tswarm/network';

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  kernelVersion: string;
  operatingSystem: string;
  /**
   * Non-loopback IPv4 addresses; inside a lab host these are its underlay addresses. The
   * gateway bridge tswarm itself creates for containers is not one of the host's addresses
   * (it would make `init` see two candidates to advertise).
   */
  addresses: string[];
}

export function hostFacts(): HostFacts {
  const addresses: string[] = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    if (name === GATEWAY_BRIDGE) continue;
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) addresses.push(a.address);
  }
  return { cpus: os.cpus().length, memoryBytes: os.totalmem(), kernelVersion: os.release(), operatingSystem: osPrettyName(), addresses };
}

function osPrettyName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // fall through: not every system has /etc/os-release
  }
  return `${os.type()} ${os.release()}`;
}
