import net from 'node:net';
import { UserError } from '../common/errors.js';
import type { PortMapping } from './spec.js';

/** Resolves true when something already listens on (or holds) address:port. */
export function portInUse(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' || err.code === 'EACCES'));
    server.once('listening', () => server.close(() => resolve(false)));
    server.listen({ port, host: address, exclusive: true });
  });
}

/** A port the kernel considers free on 127.0.0.1 now, avoiding `avoid` (ports other clusters hold while stopped). */
export async function findFreePort(avoid: Set<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (!avoid.has(port)) return port;
  }
  throw new Error('could not find a free port on 127.0.0.1');
}

/** Fails with a clear message when a host port of the config is taken. TCP only: UDP binds are checked by the engine. */
export async function checkHostPortsFree(mappings: PortMapping[]): Promise<void> {
  for (const m of mappings) {
    if (m.protocol !== 'tcp') continue;
    if (await portInUse(m.hostPort, m.listenAddress)) {
      throw new UserError(`host port ${m.listenAddress}:${m.hostPort} is already in use`, {
        hint: `stop what listens there (e.g. ss -ltnp 'sport = :${m.hostPort}') or choose another hostPort in the cluster config`,
      });
    }
  }
}
