import http from 'node:http';
import https from 'node:https';

/**
 * Readiness probe: an HTTP(S) GET over a unix socket (or TCP) that answers 200 and, when
 * `expectBody` is given, exactly that body (dockerd's /_ping says "OK"). Never throws.
 */
export function httpProbe(opts: {
  socketPath?: string;
  host?: string;
  port?: number;
  path: string;
  expectBody?: string;
  timeoutMs?: number;
  /** HTTPS with this CA and client certificate (PEM text). */
  tls?: { ca: string; cert: string; key: string };
}): (signal: AbortSignal) => Promise<boolean> {
  return (signal) =>
    new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(false);
      const get = opts.tls ? https.get : http.get;
      const req = get(
        {
          ...(opts.socketPath !== undefined ? { socketPath: opts.socketPath } : { host: opts.host, port: opts.port }),
          ...(opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : {}),
          path: opts.path,
          timeout: opts.timeoutMs ?? 2_000,
          signal,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < 1024) body += chunk;
          });
          res.on('end', () => resolve(res.statusCode === 200 && (opts.expectBody === undefined || body.trim() === opts.expectBody)));
          res.on('error', () => resolve(false));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
}
