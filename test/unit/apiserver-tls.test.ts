import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueClientCertificate, issueServerCertificate, type CertificateAuthority, type KeyPairPem } from '../../src/cluster/pki.js';
import { startApiServer } from '../../src/node/controlplane/apiserver/server.js';
import { MemoryStore } from '../../src/node/controlplane/store/memory.js';

let ca: CertificateAuthority;
let client: KeyPairPem;
let server: { url: string; close(): Promise<void> };
const logs: string[] = [];

function get(path: string, cert?: KeyPairPem): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, server.url),
      { method: 'GET', ca: ca.certPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  ca = await createCertificateAuthority('clusterlab-test-ca');
  const serving = await issueServerCertificate(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  client = await issueClientCertificate(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] });
  server = await startApiServer({
    store: new MemoryStore(),
    tls: { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem },
    host: '127.0.0.1',
    port: 0,
    serviceCidr: '10.96.0.0/16',
    version: '1.30.2',
    log: (line) => logs.push(line),
  });
});
afterAll(async () => {
  await server?.close();
});

describe('TLS client-certificate authentication', () => {
  it('serves https', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('401 without a client certificate', async () => {
    const r = await get('/api/v1/namespaces');
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  });

  it('401 with a certificate from another CA', async () => {
    const otherCa = await createCertificateAuthority('someone-else');
    const stranger = await issueClientCertificate(otherCa, { commonName: 'mallory' });
    expect((await get('/api/v1/namespaces', stranger)).status).toBe(401);
  });

  it('200 with a certificate from the cluster CA, and logs the user', async () => {
    const r = await get('/api/v1/namespaces', client);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).kind).toBe('NamespaceList');
    const write = await new Promise<number>((resolve, reject) => {
      const req = https.request(new URL('/api/v1/namespaces', server.url), { method: 'POST', ca: ca.certPem, cert: client.certPem, key: client.keyPem, headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tls-ns' } }));
    });
    expect(write).toBe(201);
    expect(logs.some((l) => l.includes('POST /api/v1/namespaces 201') && l.includes('kubernetes-admin(system:masters)'))).toBe(true);
  });

  it('health and version answer without a certificate', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await get('/version')).body).gitVersion).toBe('v1.30.2');
  });
});
