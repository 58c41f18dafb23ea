/**
 * The REST verbs over HTTP: turns a routed request (method, path info, query, body) into a
 * call on the ObjectRegistry or a subresource, and its result into the answer the client
 * asked for (object, Table, list, Status).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeleteOptions, PropagationPolicy } from './deletion.js';
import { parseJsonBody, readBody, sendJson } from './http-io.js';
import { decodeKubeProtobuf, PROTOBUF_MEDIA_TYPE } from './protobuf/decode.js';
import { mediaTypeOf, responseForm, type ResponseForm } from './negotiation.js';
import type { ObjectRegistry, WriteOptions } from './objects.js';
import { patchTypeOf } from './patch.js';
import { renderList, renderObject, type IncludeObject } from './render.js';
import type { ResourceType } from './resources.js';
import { badRequest, methodNotAllowed, pathNotFound, success, unsupportedMediaType } from './status.js';
import { bindPod, evictPod, getScale, patchScale, updateScale } from './subresources.js';
import { serveWatch, type WatchDeps } from './watch.js';

export interface ResourceRequest {
  res: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: URLSearchParams;
}

const PATCH_MEDIA_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
];

export class ResourceHandlers {
  constructor(
    private readonly registry: ObjectRegistry,
    private readonly watchDeps: WatchDeps,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async handle(req: IncomingMessage, resp: ServerResponse, r: ResourceRequest): Promise<void> {
    const method = req.method ?? 'GET';
    const form = responseForm(req.headers.accept);
    if (r.name === undefined) return this.collection(req, resp, r, method, form);
    if (r.subresource === undefined) return this.single(req, resp, r, r.name, method, form);
    return this.subresource(req, resp, r, r.name, r.subresource, method, form);
  }

  private async collection(req: IncomingMessage, resp: ServerResponse, r: ResourceRequest, method: string, form: ResponseForm): Promise<void> {
    const { res, namespace, query } = r;
    switch (method) {
      case 'GET': {
        if (isTrue(query.get('watch'))) {
          await serveWatch(
            resp,
            {
              res,
              ...(namespace !== undefined ? { namespace } : {}),
              ...optional('resourceVersion', query.get('resourceVersion')),
              ...optional('labelSelector', query.get('labelSelector')),
              ...optional('fieldSelector', query.get('fieldSelector')),
              allowWatchBookmarks: isTrue(query.get('allowWatchBookmarks')),
              ...optional('timeoutSeconds', integerParam(query, 'timeoutSeconds')),
              form,
              ...optional('includeObject', includeObjectParam(query)),
            },
            this.watchDeps,
          );
          return;
        }
        const list = await this.registry.list(res, namespace, listOptions(query));
        sendJson(resp, 200, renderList(form, res, list, renderOptions(query, this.now())));
        return;
      }
      case 'POST': {
        if (!res.namespaced && namespace !== undefined) throw pathNotFound();
        if (res.namespaced && namespace === undefined) throw methodNotAllowed();
        const body = await jsonBody(req);
        const created = await this.registry.create(res, namespace, body, writeOptions(query));
        sendJson(resp, 201, renderObject(form, res, created, renderOptions(query, this.now())));
        return;
      }
      case 'DELETE': {
        if (!res.deleteCollection) throw methodNotAllowed();
        const opts = await deleteOptions(req, query);
        const list = await this.registry.deleteCollection(res, namespace, listOptions(query), opts);
        sendJson(resp, 200, renderList({ as: 'object' }, res, list));
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  private async single(req: IncomingMessage, resp: ServerResponse, r: ResourceRequest, name: string, method: string, form: ResponseForm): Promise<void> {
    const { res, namespace, query } = r;
    const render = (obj: Parameters<typeof renderObject>[2]) => renderObject(form, res, obj, renderOptions(query, this.now()));
    switch (method) {
      case 'GET':
        sendJson(resp, 200, render(await this.registry.get(res, namespace, name)));
        return;
      case 'PUT': {
        const { object, created } = await this.registry.update(res, namespace, name, await jsonBody(req), writeOptions(query));
        sendJson(resp, created ? 201 : 200, render(object));
        return;
      }
      case 'PATCH': {
        const { type, patch } = await patchBody(req);
        const { object, created } = await this.registry.patch(res, namespace, name, type, patch, writeOptions(query));
        sendJson(resp, created ? 201 : 200, render(object));
        return;
      }
      case 'DELETE': {
        const { object, removed } = await this.registry.delete(res, namespace, name, await deleteOptions(req, query));
        if (removed && !res.returnDeletedObject) {
          sendJson(resp, 200, success(200, { name, ...(res.group !== '' ? { group: res.group } : {}), kind: res.resource, uid: object.metadata.uid ?? '' }));
        } else {
          sendJson(resp, 200, object);
        }
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  private async subresource(
    req: IncomingMessage,
    resp: ServerResponse,
    r: ResourceRequest,
    name: string,
    subresource: string,
    method: string,
    form: ResponseForm,
  ): Promise<void> {
    const { res, namespace, query } = r;
    if (!(res.subresources as string[]).includes(subresource)) throw pathNotFound();
    const opts = writeOptions(query);
    switch (`${subresource} ${method}`) {
      case 'status GET':
        sendJson(resp, 200, renderObject(form, res, await this.registry.get(res, namespace, name)));
        return;
      case 'status PUT': {
        const { object } = await this.registry.update(res, namespace, name, await jsonBody(req), { ...opts, subresource: 'status' });
        sendJson(resp, 200, object);
        return;
      }
      case 'status PATCH': {
        const { type, patch } = await patchBody(req);
        const { object } = await this.registry.patch(res, namespace, name, type, patch, { ...opts, subresource: 'status' });
        sendJson(resp, 200, object);
        return;
      }
      case 'scale GET':
        sendJson(resp, 200, await getScale(this.registry, res, namespace, name));
        return;
      case 'scale PUT':
        sendJson(resp, 200, await updateScale(this.registry, res, namespace, name, await jsonBody(req), opts));
        return;
      case 'scale PATCH': {
        const { type, patch } = await patchBody(req);
        sendJson(resp, 200, await patchScale(this.registry, res, namespace, name, type, patch, opts));
        return;
      }
      case 'binding POST':
        sendJson(resp, 201, await bindPod(this.registry, res, namespace!, name, await jsonBody(req), this.now()));
        return;
      case 'eviction POST':
        sendJson(resp, 201, await evictPod(this.registry, res, namespace!, name, await jsonBody(req)));
        return;
      default:
        throw methodNotAllowed();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Request parameters
// ---------------------------------------------------------------------------------------------

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (!/^-?\d+$/.test(text)) throw badRequest(`${name}: Invalid value: "${text}": must be an integer`);
  return Number(text);
}

function includeObjectParam(query: URLSearchParams): IncludeObject | undefined {
  const value = query.get('includeObject');
  if (value === null || value === '') return undefined;
  if (value !== 'None' && value !== 'Metadata' && value !== 'Object') throw badRequest(`includeObject: Unsupported value: "${value}"`);
  return value;
}

function listOptions(query: URLSearchParams) {
  return {
    ...optional('labelSelector', query.get('labelSelector')),
    ...optional('fieldSelector', query.get('fieldSelector')),
    ...optional('limit', integerParam(query, 'limit')),
    ...optional('continue', query.get('continue') || undefined),
  };
}

function renderOptions(query: URLSearchParams, now: Date) {
  return { ...optional('includeObject', includeObjectParam(query)), now };
}

function writeOptions(query: URLSearchParams): WriteOptions {
  return {
    dryRun: query.getAll('dryRun').length > 0,
    ...optional('fieldManager', query.get('fieldManager')),
    force: isTrue(query.get('force')),
  };
}

/** A create/update body: JSON, or protobuf as typed client-go clients (kubectl create …) send it. */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const type = mediaTypeOf(req.headers['content-type']);
  if (type === PROTOBUF_MEDIA_TYPE) {
    const bytes = await readBody(req);
    if (bytes.length === 0) throw badRequest('the body of the request is empty');
    return decodeKubeProtobuf(bytes).object;
  }
  if (type !== '' && type !== 'application/json' && type !== '*/*') throw unsupportedMediaType(type, ['application/json', PROTOBUF_MEDIA_TYPE]);
  const body = parseJsonBody(await readBody(req));
  if (body === undefined) throw badRequest('the body of the request is empty');
  return body;
}

async function patchBody(req: IncomingMessage): Promise<{ type: NonNullable<ReturnType<typeof patchTypeOf>>; patch: unknown }> {
  const contentType = mediaTypeOf(req.headers['content-type']);
  const type = patchTypeOf(contentType);
  if (!type) throw unsupportedMediaType(contentType, PATCH_MEDIA_TYPES);
  // apply-patch+yaml: kubectl sends JSON, which is YAML too; real YAML is not read here.
  const patch = parseJsonBody(await readBody(req));
  if (patch === undefined) throw badRequest('the body of the request is empty');
  return { type, patch };
}

const PROPAGATION_POLICIES = new Set<PropagationPolicy>(['Background', 'Orphan', 'Foreground']);

/** DeleteOptions from the body (kubectl) and the query (curl, client libraries). */
async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const bytes = await readBody(req);
  const body = mediaTypeOf(req.headers['content-type']) === PROTOBUF_MEDIA_TYPE && bytes.length > 0 ? decodeKubeProtobuf(bytes).object : parseJsonBody(bytes);
  const fromBody = (typeof body === 'object' && body !== null ? body : {}) as DeleteOptions & { dryRun?: unknown };
  const opts: DeleteOptions = {};
  const grace = integerParam(query, 'gracePeriodSeconds') ?? fromBody.gracePeriodSeconds;
  if (grace !== undefined && grace !== null) opts.gracePeriodSeconds = grace;
  const policy = query.get('propagationPolicy') ?? fromBody.propagationPolicy;
  if (policy !== undefined && policy !== null) {
    if (!PROPAGATION_POLICIES.has(policy as PropagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    opts.propagationPolicy = policy as PropagationPolicy;
  }
  const orphan = query.get('orphanDependents');
  if (orphan !== null) opts.orphanDependents = isTrue(orphan);
  else if (typeof fromBody.orphanDependents === 'boolean') opts.orphanDependents = fromBody.orphanDependents;
  if (fromBody.preconditions) opts.preconditions = fromBody.preconditions;
  if (query.getAll('dryRun').length > 0 || (Array.isArray(fromBody.dryRun) && fromBody.dryRun.length > 0)) opts.dryRun = true;
  return opts;
}
