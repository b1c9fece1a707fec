// The node's TLS identity as something that can change while the node runs: renewal gives
// it a new key and certificate (maybe with a new role), and every credential made from it
// uses the new one from then on, without restarting servers or recreating clients.
//
// Why a holder rather than recreating clients: the Raft transport, the agent's sessions and
// the manager's cluster-port server each keep their credentials for as long as they live.
// grpc-js can read client identities from a CertificateProvider on every new connection
// (grpc.experimental.createCertificateProviderChannelCredentials), and our server
// credentials can swap their secure context (NodeServerCredentials.update); so the holder
// is that provider and pushes updates to the servers made from it. Connections already
// established keep the certificate they were authenticated with (TLS checks validity only
// at the handshake, as in Swarm); the next connection presents the new one.
import * as grpc from '@grpc/grpc-js';
import { NodeIdentity, NodeRole } from './identity.js';
import { parseRootCACert } from './root-ca.js';
import { checkServer, checkTlsIdentity, ClientCertPolicy, NodeServerCredentials, TlsIdentity } from './tls.js';

type Provider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export interface NodeClientOptions {
  /** Refuse a server whose certificate has another role (e.g. a demoted manager). */
  expectRole?: NodeRole;
  /** Refuse a server that is not this node. */
  expectNodeId?: string;
}

/**
 * The current key, certificate and root CA of this node. Single owner: the daemon (its
 * renewer calls `update`); everything else only reads or makes credentials from it.
 * Invariant: `tls` always passes checkTlsIdentity (update refuses a set that does not).
 */
export class NodeCredentials implements Provider {
  private current: TlsIdentity;
  private who: NodeIdentity;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly updateListeners = new Set<(tls: TlsIdentity, identity: NodeIdentity) => void>();

  constructor(tls: TlsIdentity) {
    this.who = checkTlsIdentity(tls);
    this.current = { ...tls };
  }

  get tls(): TlsIdentity {
    return { ...this.current };
  }

  /** Who the current certificate says this node is (ID, role, validity). */
  get identity(): NodeIdentity {
    return this.who;
  }

  /** Swaps in a renewed identity: new connections and the servers made here use it. */
  update(tls: TlsIdentity): void {
    this.who = checkTlsIdentity(tls);
    this.current = { ...tls };
    for (const l of this.caListeners) l({ caCertificate: Buffer.from(tls.caPem) });
    for (const l of this.identityListeners) l({ certificate: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) });
    for (const l of this.updateListeners) l(this.tls, this.who);
  }

  /** Calls `listener` after every update; returns the unsubscribe function. */
  onUpdate(listener: (tls: TlsIdentity, identity: NodeIdentity) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /**
   * Client credentials that present whatever identity is current when a connection is
   * made. Each call returns a distinct object on purpose: grpc-js shares connections
   * between channels whose credentials are equal, and a connection made by the agent
   * with a worker certificate must never carry a Raft call after promotion.
   */
  client(opts: NodeClientOptions = {}): grpc.ChannelCredentials {
    return grpc.experimental.createCertificateProviderChannelCredentials(this, this, {
      checkServerIdentity: (_host, peer) => checkServer(parseRootCACert(this.current.caPem), peer, { caPem: this.current.caPem, ...opts }),
    });
  }

  /** Server credentials that follow updates until the returned `release` is called. */
  server(clientCerts: ClientCertPolicy): { credentials: NodeServerCredentials; release(): void } {
    const credentials = new NodeServerCredentials(this.current, clientCerts);
    const release = this.onUpdate((tls) => credentials.update(tls));
    return { credentials, release };
  }

  // ---- grpc.experimental.CertificateProvider: grpc-js subscribes per live channel ----
  // A listener is told the current value at once (synchronously), so a connection attempt
  // never waits for a first update.

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    listener({ caCertificate: Buffer.from(this.current.caPem) });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    listener({ certificate: Buffer.from(this.current.certPem), privateKey: Buffer.from(this.current.keyPem) });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}
