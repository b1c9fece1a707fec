// The handlers behind a real gRPC server: statuses and one-line details reach the client.
import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  ControlClient,
  ControlService,
  ServiceSpec,
  type ControlServer,
  type CreateServiceResponse,
  type GetServiceResponse,
  type ListServicesResponse,
} from '@tswarm/api';
import { controlApi } from '../../src/controlapi/index.js';
import { harness } from './harness.js';

describe('control API over gRPC', () => {
  let server: grpc.Server;
  let client: InstanceType<typeof ControlClient>;

  before(async () => {
    const h = harness();
    const notHere = (_c: unknown, cb: (e: Partial<grpc.StatusObject>) => void) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'served by the daemon' });
    const impl: ControlServer = { ...controlApi(h.deps), init: notHere, join: notHere, leave: notHere };
    server = new grpc.Server();
    server.addService(ControlService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new ControlClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client.close();
    server.forceShutdown();
  });

  type Cb<Res> = (e: grpc.ServiceError | null, r: Res) => void;
  const settle = <Res>(resolve: (r: Res) => void, reject: (e: grpc.ServiceError) => void): Cb<Res> => (e, r) => (e ? reject(e) : resolve(r));
  const createService = (spec: ServiceSpec) => new Promise<CreateServiceResponse>((ok, fail) => client.createService({ spec }, settle(ok, fail)));
  const listServices = () => new Promise<ListServicesResponse>((ok, fail) => client.listServices({}, settle(ok, fail)));
  const getService = (serviceId: string) => new Promise<GetServiceResponse>((ok, fail) => client.getService({ serviceId }, settle(ok, fail)));

  it('creates and lists a service', async () => {
    const spec = ServiceSpec.fromPartial({ name: 'web', task: { container: { image: 'nginx' } } });
    const created = await createService(spec);
    assert.equal(created.service?.spec?.name, 'web');
    const listed = await listServices();
    assert.deepEqual(listed.services.map((s) => s.id), [created.service?.id]);
    assert.deepEqual(listed.counts[created.service!.id], { running: 0, desired: 1 });
  });

  it('carries the status code and the one-line message', async () => {
    const err = (await getService('nope').catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.details, 'service nope not found');
  });

  it('answers UNIMPLEMENTED for service logs, with what to do instead', async () => {
    const stream = client.serviceLogs({ serviceId: 'web', follow: false, tail: -1, timestamps: false });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
    });
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /service logs are not implemented yet/);
  });
});
