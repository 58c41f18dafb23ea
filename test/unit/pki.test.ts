import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateSummary,
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
  type KeyPairPem,
} from '../../src/cluster/pki.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const OPENSSL = '/usr/bin/openssl';

let ca: CertificateAuthority;
let server: KeyPairPem;
let client: KeyPairPem;
let otherCa: CertificateAuthority;
let otherClient: KeyPairPem;
let issuedAt: number;

beforeAll(async () => {
  issuedAt = Date.now();
  ca = await createCertificateAuthority('clusterlab-test-ca');
  server = await issueServerCertificate(ca, {
    commonName: 'leader',
    dnsNames: ['localhost', 'leader.clusterlab.test'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  client = await issueClientCertificate(ca, {
    commonName: 'kubernetes-admin',
    organizations: ['system:masters', 'clusterlab:students'],
  });
  otherCa = await createCertificateAuthority('another-ca');
  otherClient = await issueClientCertificate(otherCa, { commonName: 'intruder', organizations: ['system:masters'] });
});

function x509(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

describe('createCertificateAuthority', () => {
  it('makes a self-signed CA certificate with a PKCS#8 key that matches it', () => {
    const cert = x509(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=clusterlab-test-ca');
    expect(cert.issuer).toBe('CN=clusterlab-test-ca');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(ca.keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkPrivateKey(key)).toBe(true);
  });

  it('is valid from an hour ago for 10 years by default, or for validityDays', async () => {
    const cert = x509(ca.certPem);
    expectNear(new Date(cert.validFrom).getTime(), issuedAt - HOUR_MS);
    expectNear(new Date(cert.validTo).getTime(), issuedAt + 10 * 365 * DAY_MS);

    const shortLived = x509((await createCertificateAuthority('short', { validityDays: 30 })).certPem);
    expectNear(new Date(shortLived.validTo).getTime(), Date.now() + 30 * DAY_MS);
  });

  it('rejects an empty name and a non-positive validity', async () => {
    await expect(createCertificateAuthority('')).rejects.toThrow(/commonName/);
    await expect(createCertificateAuthority('x', { validityDays: 0 })).rejects.toThrow(/validityDays/);
  });

});

describe('issueServerCertificate', () => {
  it('is signed by the CA and carries the SANs, serverAuth and a matching key', () => {
    const caCert = x509(ca.certPem);
    const cert = x509(server.certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(x509(otherCa.certPem).publicKey)).toBe(false);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=leader');
    expect(cert.issuer).toBe('CN=clusterlab-test-ca');
    expect(cert.subjectAltName?.split(', ')).toEqual(
      expect.arrayContaining(['DNS:localhost', 'DNS:leader.clusterlab.test', 'IP Address:127.0.0.1']),
    );
    expect(cert.subjectAltName).toMatch(/IP Address:(0:0:0:0:0:0:0:1|::1)\b/);
    expect(cert.checkHost('leader.clusterlab.test')).toBe('leader.clusterlab.test');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkHost('elsewhere.example')).toBeUndefined();
    expect(cert.keyUsage).toEqual([OID_SERVER_AUTH]); // node names the extended key usage `keyUsage`
    expect(server.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(client.keyPem))).toBe(false);
  });

  it('is valid from an hour ago for 5 years by default, or for validityDays', async () => {
    const cert = x509(server.certPem);
    expectNear(new Date(cert.validFrom).getTime(), issuedAt - HOUR_MS);
    expectNear(new Date(cert.validTo).getTime(), issuedAt + 5 * 365 * DAY_MS);

    const week = x509((await issueServerCertificate(ca, { commonName: 'w', dnsNames: ['w'], ipAddresses: [], validityDays: 7 })).certPem);
    expectNear(new Date(week.validTo).getTime(), Date.now() + 7 * DAY_MS);
  });

  it('never outlives its CA', async () => {
    const shortCa = await createCertificateAuthority('short-ca', { validityDays: 10 });
    const leaf = await issueServerCertificate(shortCa, { commonName: 'l', dnsNames: ['l'], ipAddresses: [], validityDays: 365 });
    expect(x509(leaf.certPem).validTo).toBe(x509(shortCa.certPem).validTo);
  });

  it('gets a distinct random positive serial number of 128 bits', async () => {
    const serials = [ca, server, client, otherCa, otherClient].map((kp) => x509(kp.certPem).serialNumber);
    expect(new Set(serials).size).toBe(serials.length);
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9A-F]+$/);
      const value = BigInt(`0x${serial}`);
      expect(value > 0n && value < 2n ** 128n).toBe(true);
    }
  });

  it('refuses bad input', async () => {
    await expect(issueServerCertificate(ca, { commonName: 'n', dnsNames: [], ipAddresses: [] })).rejects.toThrow(
      /at least one DNS name or IP address/,
    );
    await expect(issueServerCertificate(ca, { commonName: 'n', dnsNames: [], ipAddresses: ['300.1.1.1'] })).rejects.toThrow(
      /IP address/,
    );
    await expect(issueServerCertificate(ca, { commonName: 'n', dnsNames: [''], ipAddresses: [] })).rejects.toThrow(/dnsNames/);
  });

  it('refuses a CA key that does not belong to the CA certificate, or a leaf used as CA', async () => {
    const mixed = { certPem: ca.certPem, keyPem: otherCa.keyPem };
    await expect(issueServerCertificate(mixed, { commonName: 'n', dnsNames: ['n'], ipAddresses: [] })).rejects.toThrow(
      /does not belong/,
    );
    await expect(issueClientCertificate(server, { commonName: 'n' })).rejects.toThrow(/not a CA/);
    await expect(issueClientCertificate({ certPem: 'junk', keyPem: 'junk' }, { commonName: 'n' })).rejects.toThrow(
      /cannot be read/,
    );
  });
});

describe('issueClientCertificate', () => {
  it('is signed by the CA, with the organizations in order then the common name, and clientAuth', () => {
    const caCert = x509(ca.certPem);
    const cert = x509(client.certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('O=system:masters\nO=clusterlab:students\nCN=kubernetes-admin');
    expect(cert.keyUsage).toEqual([OID_CLIENT_AUTH]);
    expect(cert.subjectAltName).toBeUndefined();
    expect(cert.checkPrivateKey(createPrivateKey(client.keyPem))).toBe(true);
  });

  it('makes a node agent identity', async () => {
    const agent = await issueClientCertificate(ca, { commonName: 'system:node:worker1', organizations: ['system:nodes'] });
    expect(x509(agent.certPem).subject).toBe('O=system:nodes\nCN=system:node:worker1');
    const noOrg = await issueClientCertificate(ca, { commonName: 'just-a-name' });
    expect(x509(noOrg.certPem).subject).toBe('CN=just-a-name');
  });
});

describe('certificateSummary', () => {
  it('summarizes a server certificate', () => {
    const summary = certificateSummary(server.certPem);
    expect(summary.subject).toBe('CN=leader');
    expect(summary.issuer).toBe('CN=clusterlab-test-ca');
    expect(summary.dnsNames).toEqual(['localhost', 'leader.clusterlab.test']);
    expect(summary.ipAddresses).toEqual(['127.0.0.1', '::1']);
    expect(summary.notAfter).toBeInstanceOf(Date);
    expect(summary.notAfter.getTime()).toBe(new Date(x509(server.certPem).validTo).getTime());
  });

  it('summarizes a client certificate', () => {
    expect(certificateSummary(client.certPem)).toEqual({
      subject: 'O=system:masters, O=clusterlab:students, CN=kubernetes-admin',
      issuer: 'CN=clusterlab-test-ca',
      notAfter: new Date(x509(client.certPem).validTo),
      dnsNames: [],
      ipAddresses: [],
    });
  });
});

describe('TLS on loopback with the issued certificates', () => {
  let tlsServer: tls.Server;
  let port: number;
  const serverSockets = new Set<tls.TLSSocket>();
  const clientErrors: Error[] = [];
  let secureConnections = 0;

  beforeAll(async () => {
    tlsServer = tls.createServer({
      cert: server.certPem,
      key: server.keyPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    tlsServer.on('secureConnection', (socket) => {
      secureConnections += 1;
      serverSockets.add(socket);
      socket.on('close', () => serverSockets.delete(socket));
      socket.on('error', () => {});
      const peer = socket.getPeerCertificate();
      socket.end(`hello ${peer.subject.CN}\n`);
    });
    tlsServer.on('tlsClientError', (err) => clientErrors.push(err));
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(0, '127.0.0.1', () => resolve());
    });
    port = (tlsServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of serverSockets) socket.destroy();
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  });

  /** Connects, and reads what the server says; `ok` only when its greeting arrives. Never waits more than 5 s. */
  function talk(options: tls.ConnectionOptions): Promise<{ ok: boolean; data: string; error?: Error }> {
    return new Promise((resolve) => {
      let data = '';
      let settled = false;
      const socket = tls.connect({ host: '127.0.0.1', port, ...options });
      const finish = (result: { ok: boolean; data: string; error?: Error }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(result);
      };
      const timer = setTimeout(() => finish({ ok: false, data, error: new Error('timed out after 5 s') }), 5_000);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        data += chunk;
        if (data.endsWith('\n')) finish({ ok: true, data });
      });
      socket.on('error', (error) => finish({ ok: false, data, error }));
      socket.on('close', () => finish({ ok: data.endsWith('\n'), data }));
    });
  }

  it('accepts a client certificate from the cluster CA (server checked by DNS name)', async () => {
    const acceptedBefore = secureConnections;
    const result = await talk({ ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, data: 'hello kubernetes-admin\n' });
    expect(secureConnections).toBe(acceptedBefore + 1);
  });

  it('accepts a client certificate from the cluster CA (server checked by IP address)', async () => {
    // No servername: node checks the server certificate against the IP it connected to.
    const result = await talk({ ca: ca.certPem, cert: client.certPem, key: client.keyPem });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, data: 'hello kubernetes-admin\n' });
  });

  it('rejects a client certificate from another CA', async () => {
    const before = clientErrors.length;
    const acceptedBefore = secureConnections;
    const result = await talk({ ca: ca.certPem, cert: otherClient.certPem, key: otherClient.keyPem, servername: 'localhost' });
    expect(result.ok).toBe(false);
    expect(result.data).toBe('');
    // Node's server ends such a connection right after the handshake without an alert (it checks the
    // peer's chain there), so the client sees the connection close with nothing said.
    await waitFor(() => clientErrors.length > before);
    expect(secureConnections).toBe(acceptedBefore);
  });

  it('rejects a client without a certificate', async () => {
    const before = clientErrors.length;
    const acceptedBefore = secureConnections;
    const result = await talk({ ca: ca.certPem, servername: 'localhost' });
    expect(result.ok).toBe(false);
    expect(result.data).toBe('');
    await waitFor(() => clientErrors.length > before);
    expect((clientErrors.at(-1) as NodeJS.ErrnoException).code).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    expect(secureConnections).toBe(acceptedBefore);
  });

  it('is refused by a client that trusts another CA, or expects another name', async () => {
    const otherTrust = await talk({ ca: otherCa.certPem, cert: client.certPem, key: client.keyPem, servername: 'localhost' });
    expect(otherTrust.ok).toBe(false);
    expect(otherTrust.error?.message).toMatch(/verify|issuer|self.signed|signature/i);

    const wrongName = await talk({ ca: ca.certPem, cert: client.certPem, key: client.keyPem, servername: 'elsewhere.example' });
    expect(wrongName.ok).toBe(false);
    expect((wrongName.error as NodeJS.ErrnoException | undefined)?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('chain verification', () => {
  const hasOpenssl = existsSync(OPENSSL);

  it(`verifies the leaves against the CA with node:crypto${hasOpenssl ? ' and `openssl verify -CAfile`' : ' (openssl part skipped: /usr/bin/openssl not found)'}`, () => {
    const caCert = x509(ca.certPem);
    for (const leaf of [server, client]) {
      const cert = x509(leaf.certPem);
      expect(cert.checkIssued(caCert)).toBe(true);
      expect(cert.verify(caCert.publicKey)).toBe(true);
      const now = Date.now();
      expect(new Date(cert.validFrom).getTime()).toBeLessThan(now);
      expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now);
    }
    if (!hasOpenssl) return;

    const dir = mkdtempSync(join(tmpdir(), 'clusterlab-pki-'));
    try {
      const file = (name: string, text: string) => {
        const path = join(dir, name);
        writeFileSync(path, text, { mode: 0o600 });
        return path;
      };
      const caFile = file('ca.pem', ca.certPem);
      const otherCaFile = file('other-ca.pem', otherCa.certPem);
      const serverFile = file('server.pem', server.certPem);
      const clientFile = file('client.pem', client.certPem);
      const openssl = (...args: string[]) => execFileSync(OPENSSL, args, { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });

      expect(openssl('verify', '-CAfile', caFile, '-purpose', 'sslserver', serverFile)).toContain(`${serverFile}: OK`);
      expect(openssl('verify', '-CAfile', caFile, '-purpose', 'sslclient', clientFile)).toContain(`${clientFile}: OK`);
      expect(() => openssl('verify', '-CAfile', caFile, '-purpose', 'sslclient', serverFile)).toThrow();
      expect(() => openssl('verify', '-CAfile', otherCaFile, serverFile)).toThrow();

      const caText = openssl('x509', '-noout', '-text', '-in', caFile);
      expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      expect(caText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(caText).toContain('X509v3 Subject Key Identifier');
      expect(caText).toContain('ecdsa-with-SHA256');
      expect(caText).toContain('NIST CURVE: P-256');

      const serverText = openssl('x509', '-noout', '-text', '-in', serverFile);
      expect(serverText).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(serverText).not.toContain('(Negative)'); // the serial number is a positive INTEGER
      expect(serverText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(serverText).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
      const caKeyId = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
      expect(caKeyId).toBeDefined();
      expect(serverText).toMatch(new RegExp(`X509v3 Authority Key Identifier:\\s+(keyid:)?${caKeyId}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `actual` within two minutes of `expected` (the test's own clock reading is a little apart). */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThan(2 * 60 * 1000);
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
