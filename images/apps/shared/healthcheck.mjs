// `node /app/shared/healthcheck.mjs URL`: exit 0 when URL answers 2xx within 2 s, else 1.
// Compose healthchecks call it (a swarm task is "healthy" only while it passes); busybox's
// wget is in the image too, but this needs nothing beyond Node itself.
import { request } from './upstream.mjs';

const url = process.argv[2] ?? 'http://127.0.0.1:8080/healthz';
try {
  const answer = await request(url, { timeoutMs: 2_000 });
  if (answer.status >= 200 && answer.status < 300) process.exit(0);
  process.stderr.write(`${url}: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}\n`);
} catch (err) {
  process.stderr.write(`${url}: ${err.code ?? err.message}\n`);
}
process.exit(1);
