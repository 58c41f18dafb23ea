/**
 * A small in-process Kubernetes API for the agent's tests: the handful of resources the agent
 * touches, create/get/list/watch/update/merge-patch/delete with resourceVersions, and pod
 * graceful deletion (deletionTimestamp until the node confirms with grace 0). Independent of
 * the real API server so that these tests exercise the agent only.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// Stored objects are arbitrary JSON documents.
type Obj = { metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string; uid?: string }; [key: string]: unknown };

interface Watcher {
  plural: string;
  namespace: string | undefined;
  nodeName: string | undefined;
  res: http.ServerResponse;
}

export interface FakeApi {
  url: string;
  /** Every request as 'METHOD path' (query stripped). */
  requests: string[];
  close(): Promise<void>;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** /api/v1/[namespaces/NS/]PLURAL[/NAME[/SUB]] or /apis/G/V/... */
function parsePath(pathname: string): { plural: string; namespace?: string; name?: string; sub?: string } | undefined {
  const parts = pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) return { namespace: rest[1], plural: rest[2]!, name: rest[3], sub: rest[4] };
  return { plural: rest[0]!, name: rest[1], sub: rest[2] };
}

export async function startFakeApi(): Promise<FakeApi> {
  const store = new Map<string, Obj>(); // plural/ns/name
  let revision = 1;
  const watchers = new Set<Watcher>();
  const requests: string[] = [];
  const key = (plural: string, namespace: string | undefined, name: string) => `${plural}/${namespace ?? ''}/${name}`;
  const status = (res: http.ServerResponse, code: number, reason: string, message: string) =>
    send(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  const send = (res: http.ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const matches = (w: { plural: string; namespace?: string; nodeName?: string }, plural: string, obj: Obj) =>
    w.plural === plural && (!w.namespace || w.namespace === obj.metadata.namespace) && (!w.nodeName || (obj.spec as { nodeName?: string } | undefined)?.nodeName === w.nodeName);
  const notify = (type: string, plural: string, obj: Obj) => {
    for (const w of watchers) if (matches(w, plural, obj)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };
  const save = (plural: string, obj: Obj, type: 'ADDED' | 'MODIFIED') => {
    obj.metadata.resourceVersion = String(++revision);
    store.set(key(plural, obj.metadata.namespace, obj.metadata.name), obj);
    notify(type, plural, obj);
    return obj;
  };
  const remove = (plural: string, obj: Obj) => {
    store.delete(key(plural, obj.metadata.namespace, obj.metadata.name));
    obj.metadata.resourceVersion = String(++revision);
    notify('DELETED', plural, obj);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}`);
      const target = parsePath(url.pathname);
      if (!target) return status(res, 404, 'NotFound', 'no such path');
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : undefined;
      const nodeName = /spec\.nodeName=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
      const existing = target.name ? store.get(key(target.plural, target.namespace, target.name)) : undefined;

      if (req.method === 'GET' && !target.name) {
        if (url.searchParams.get('watch') === 'true') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.flushHeaders();
          const watcher: Watcher = { plural: target.plural, namespace: target.namespace, nodeName, res };
          watchers.add(watcher);
          req.socket.on('close', () => watchers.delete(watcher));
          return;
        }
        const items = [...store.entries()].filter(([k, obj]) => k.startsWith(`${target.plural}/`) && matches({ ...target, nodeName }, target.plural, obj)).map(([, o]) => o);
        return send(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(revision) }, items });
      }
      if (req.method === 'GET') return existing ? send(res, 200, existing) : status(res, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
      if (req.method === 'POST') {
        const obj = body as Obj;
        obj.metadata.namespace = target.namespace ?? obj.metadata.namespace;
        if (store.has(key(target.plural, obj.metadata.namespace, obj.metadata.name))) return status(res, 409, 'AlreadyExists', `${target.plural} "${obj.metadata.name}" already exists`);
        obj.metadata.uid = randomUUID();
        obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        if (target.plural === 'nodes') delete obj.status;
        return send(res, 201, save(target.plural, obj, 'ADDED'));
      }
      if (!existing) return status(res, 404, 'NotFound', `${target.plural} "${target.name}" not found`);
      if (req.method === 'PUT') {
        const obj = body as Obj;
        if (obj.metadata.resourceVersion !== existing.metadata.resourceVersion) return status(res, 409, 'Conflict', 'the object has been modified');
        return send(res, 200, save(target.plural, { ...obj, metadata: { ...obj.metadata, uid: existing.metadata.uid } }, 'MODIFIED'));
      }
      if (req.method === 'PATCH') {
        let patched = mergePatch(existing, body) as Obj;
        // The status subresource changes only status; the main resource never does.
        patched = target.sub === 'status' ? { ...existing, status: patched.status } : { ...patched, status: existing.status };
        return send(res, 200, save(target.plural, patched, 'MODIFIED'));
      }
      if (req.method === 'DELETE') {
        const opts = (body ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string } };
        if (opts.preconditions?.uid && opts.preconditions.uid !== existing.metadata.uid) return status(res, 409, 'Conflict', 'Precondition failed: UID in precondition');
        const spec = existing.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
        const phase = (existing.status as { phase?: string } | undefined)?.phase;
        const grace = opts.gracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
        if (target.plural === 'pods' && spec?.nodeName && grace > 0 && phase !== 'Succeeded' && phase !== 'Failed') {
          if (!existing.metadata.deletionTimestamp) {
            existing.metadata.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
            existing.metadata.deletionGracePeriodSeconds = grace;
            save(target.plural, existing, 'MODIFIED');
          }
          return send(res, 200, existing);
        }
        remove(target.plural, existing);
        return send(res, 200, existing);
      }
      return status(res, 405, 'MethodNotAllowed', 'method not allowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      for (const w of watchers) w.res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
