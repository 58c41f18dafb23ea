/**
 * The DNS daemon's readiness probe for the supervisor: ready when it answers
 * `dns-version.cluster.local TXT` with NOERROR, which it does only once it has read the
 * cluster's Services and Endpoints (before that, SERVFAIL).
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { ZONE } from './records.js';
import { DNS_PORT } from './server.js';
import { RCODES, rcodeOf } from './wire.js';

export function dnsProbe(opts: { host?: string; port?: number; timeoutMs?: number } = {}): (signal: AbortSignal) => Promise<boolean> {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(false);
      const id = Math.floor(Math.random() * 0x10000);
      const socket = dgram.createSocket('udp4');
      let done = false;
      const finish = (ready: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.close();
        resolve(ready);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 1_000);
      signal.addEventListener('abort', onAbort);
      socket.on('message', (message) => {
        if (message.length < 12 || message.readUInt16BE(0) !== id) return;
        finish(rcodeOf(message.readUInt16BE(2)) === RCODES.NOERROR && message.readUInt16BE(6) > 0);
      });
      socket.on('error', () => finish(false));
      const query = dnsPacket.encode({ type: 'query', id, questions: [{ type: 'TXT', name: `dns-version.${ZONE}`, class: 'IN' }] });
      socket.send(query, opts.port ?? DNS_PORT, opts.host ?? '127.0.0.1', (err) => {
        if (err) finish(false);
      });
    });
}
