import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { APPS_DIR } from './apps-helpers.js';

// upstream.mjs is plain JavaScript without types: these are the parts the tests use.
type Lookup = (hostname: string, options: { all: true; family: 4 }) => Promise<{ address: string; family: number }[]>;
interface UpstreamModule {
  AddressPool: new (hostname: string, options?: { ttlMs?: number; lookup?: Lookup }) => { next(): Promise<string> };
  request(url: string, options?: { method?: string; body?: string; timeoutMs?: number; address?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string>; body: Buffer }>;
}
const load = (): Promise<UpstreamModule> => import(`${APPS_DIR}shared/upstream.mjs`) as Promise<UpstreamModule>;

/** A lookup that answers from a list the test changes, counting the calls. */
function fakeDns(initial: string[]): { lookup: Lookup; set(addresses: string[]): void; calls: () => number } {
  let addresses = initial;
  let calls = 0;
  return {
    lookup: async () => {
      calls++;
      if (addresses.length === 0) throw Object.assign(new Error('queryA ENOTFOUND backend'), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: 4 }));
    },
    set: (next) => (addresses = next),
    calls: () => calls,
  };
}

describe('AddressPool (images/apps/shared/upstream.mjs)', () => {
  it('sends to every address of the name in turn (swarm dnsrr: one per task)', async () => {
    const { AddressPool } = await load();
    const dns = fakeDns(['10.0.0.3', '10.0.0.1', '10.0.0.2']);
    const pool = new AddressPool('backend', { ttlMs: 60_000, lookup: dns.lookup });
    const picks = [];
    for (let i = 0; i < 6; i++) picks.push(await pool.next());
    expect(picks).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(dns.calls()).toBe(1);
  });

  it('looks the name up again after the TTL: a crashed task leaves, a new one joins', async () => {
    const { AddressPool } = await load();
    const dns = fakeDns(['10.0.0.1', '10.0.0.2']);
    const pool = new AddressPool('backend', { ttlMs: 50, lookup: dns.lookup });
    expect(new Set([await pool.next(), await pool.next()])).toEqual(new Set(['10.0.0.1', '10.0.0.2']));
    dns.set(['10.0.0.2', '10.0.0.7']);
    await new Promise((r) => setTimeout(r, 60));
    const after = new Set([await pool.next(), await pool.next(), await pool.next()]);
    expect(after).toEqual(new Set(['10.0.0.2', '10.0.0.7']));
    expect(dns.calls()).toBe(2);
  });

  it('one address (a kube ClusterIP) is used for every request; a literal IP is never looked up', async () => {
    const { AddressPool } = await load();
    const dns = fakeDns(['10.96.0.20']);
    const pool = new AddressPool('backend', { lookup: dns.lookup });
    expect([await pool.next(), await pool.next()]).toEqual(['10.96.0.20', '10.96.0.20']);
    const literal = new AddressPool('127.0.0.1', { lookup: dns.lookup });
    expect(await literal.next()).toBe('127.0.0.1');
    expect(dns.calls()).toBe(1);
  });

  it('concurrent requests share one lookup; a name that stops resolving fails the request', async () => {
    const { AddressPool } = await load();
    const dns = fakeDns(['10.0.0.1']);
    const pool = new AddressPool('backend', { ttlMs: 0, lookup: dns.lookup });
    await Promise.all([pool.next(), pool.next(), pool.next()]);
    expect(dns.calls()).toBe(1);
    dns.set([]);
    await expect(pool.next()).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('request (images/apps/shared/upstream.mjs)', () => {
  it('connects to the given address with the URL\'s Host, and times out with ETIMEDOUT', async () => {
    const { request } = await load();
    const seen: { host?: string; url?: string }[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, url: req.url });
      if (req.url === '/slow') return; // never answers
      res.writeHead(201, { 'x-served-by': 'here' });
      res.end('made');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const answer = await request(`http://backend:${port}/things?x=1`, { method: 'POST', body: '{}', address: '127.0.0.1' });
      expect(answer.status).toBe(201);
      expect(answer.headers['x-served-by']).toBe('here');
      expect(answer.body.toString()).toBe('made');
      expect(seen[0]).toEqual({ host: `backend:${port}`, url: '/things?x=1' });

      const started = Date.now();
      await expect(request(`http://127.0.0.1:${port}/slow`, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
