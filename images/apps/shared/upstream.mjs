// Client side of the sample apps: one HTTP request with a deadline, and a round-robin pool
// over every address a service name resolves to.
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';

/**
 * Round robin over all the addresses of `hostname`, looked up again at most every `ttlMs`.
 *
 * Why not just connect to the name: with swarm's `--endpoint-mode dnsrr` the name has one A
 * record per task and a plain connect takes whichever comes first, so the spread is left to
 * chance. A kube ClusterIP Service is one address whose rules spread the connections; there
 * this pool holds one address and changes nothing. A short TTL notices replicas that came or
 * went (a crashed task leaves the DNS answer) within about a second.
 */
export class AddressPool {
  constructor(hostname, { ttlMs = 1_000, lookup = dns.promises.lookup } = {}) {
    this.hostname = hostname;
    this.ttlMs = ttlMs;
    this.lookup = lookup;
    this.addresses = [];
    this.resolvedAt = -Infinity;
    this.cursor = 0;
    this.pending = undefined;
  }

  /** The next address to send to; rejects (ENOTFOUND…) when the name does not resolve. */
  async next() {
    if (net.isIP(this.hostname)) return this.hostname;
    if (Date.now() - this.resolvedAt >= this.ttlMs || this.addresses.length === 0) {
      // One lookup at a time, shared by the requests that arrive while it runs.
      this.pending ??= this.refresh().finally(() => {
        this.pending = undefined;
      });
      await this.pending;
    }
    const address = this.addresses[this.cursor % this.addresses.length];
    this.cursor = (this.cursor + 1) % Number.MAX_SAFE_INTEGER;
    return address;
  }

  async refresh() {
    const found = await this.lookup(this.hostname, { all: true, family: 4 });
    // Sorted, so that the cursor keeps walking the same ring while the set does not change.
    this.addresses = [...new Set(found.map((entry) => entry.address))].sort();
    this.resolvedAt = Date.now();
  }
}

/**
 * One request without connection reuse (each request opens its own connection, so a replica
 * that died is noticed by the next request, not hidden in a pooled socket). Resolves with
 * { status, headers, body } for any answer; rejects with an Error whose `code` says what went
 * wrong (ECONNREFUSED, ETIMEDOUT…) when there is none within `timeoutMs`.
 *
 * `address` connects to that IP instead of resolving the URL's host (the Host header stays).
 */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 2_000, address } = {}) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: address ?? target.hostname,
        port: target.port || 80,
        path: `${target.pathname}${target.search}`,
        method,
        headers: { ...headers, host: target.host, connection: 'close' },
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', fail);
      },
    );
    // One deadline for the whole exchange (connect, answer and body), not an idle timeout.
    const timer = setTimeout(() => {
      const err = new Error(`no answer from ${target.host} within ${timeoutMs} ms`);
      err.code = 'ETIMEDOUT';
      req.destroy(err);
    }, timeoutMs);
    function fail(err) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end(body);
  });
}

/** The body of an answer as JSON, or undefined when it is not JSON. */
export function jsonOf(answer) {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
