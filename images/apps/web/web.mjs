// The versioned web app of the rolling-update labs. One program; the version is baked into
// each image (clusterlab/web:v1, v2, v3 set APP_VERSION at build time).
//
//   GET /         "web v1 from <hostname>"
//   GET /healthz  liveness: 200 while the process runs
//   GET /readyz   readiness: 200, except in v3, which is broken on purpose: it never gets
//                 ready, so a rolling update to v3 stalls and the old replicas keep serving
import { replica, sendJson, sendText, serve } from '../shared/http.mjs';

const version = process.env.APP_VERSION || 'v1';
/** Versions whose readiness fails: the lab's bad release. */
const BROKEN_VERSIONS = new Set(['v3']);
const broken = BROKEN_VERSIONS.has(version);
const identity = { 'x-app-version': version, 'x-served-by': replica };

const { lifecycle } = serve(`web ${version}`, (req, res) => {
  const path = new URL(req.url ?? '/', 'http://web').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'only GET' }, identity);
  switch (path) {
    case '/':
      return sendText(res, 200, `web ${version} from ${replica}\n`, identity);
    case '/healthz':
      return sendJson(res, 200, { status: 'ok', version, replica }, identity);
    case '/readyz':
      if (broken) return sendJson(res, 503, { status: 'not ready', reason: `${version} is the broken release`, version, replica }, identity);
      if (lifecycle.draining) return sendJson(res, 503, { status: 'draining', version, replica }, identity);
      return sendJson(res, 200, { status: 'ready', version, replica }, identity);
    default:
      return sendJson(res, 404, { error: `no route ${path}` }, identity);
  }
});
