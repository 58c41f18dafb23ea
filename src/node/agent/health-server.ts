/** The kubelet's healthz endpoint: `ok` once the node is registered, 503 before. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const HEALTH_PORT = 10248;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export function startHealthServer(isHealthy: () => boolean, port: number = HEALTH_PORT, host = '127.0.0.1'): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/healthz/syncloop') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const healthy = isHealthy();
    res.writeHead(healthy ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(healthy ? 'ok' : 'node not registered yet');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
