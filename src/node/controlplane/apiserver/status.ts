/**
 * Kubernetes Status errors as kube-apiserver writes them: the same reasons, codes, message
 * texts and details, because kubectl prints (and sometimes parses) them.
 */
import type { Status, StatusCause } from 'kubernetes-types/meta/v1.js';
import type { ResourceType } from './resources.js';

/** An error the API answers with a Status object and an HTTP code. */
export class ApiStatusError extends Error {
  constructor(readonly status: Status & { code: number }) {
    super(status.message);
    this.name = 'ApiStatusError';
  }

  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: Status['details']): ApiStatusError {
  const status: Status & { code: number } = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) status.details = details;
  return new ApiStatusError(status);
}

/** `pods` for core resources, `deployments.apps` for the others (kube's GroupResource.String()). */
export function qualifiedResource(res: ResourceType): string {
  return res.group === '' ? res.resource : `${res.resource}.${res.group}`;
}

/** `Pod` for core kinds, `Deployment.apps` for the others (kube's GroupKind.String()). */
export function qualifiedKind(res: ResourceType): string {
  return res.group === '' ? res.kind : `${res.kind}.${res.group}`;
}

function resourceDetails(res: ResourceType, name: string): NonNullable<Status['details']> {
  const details: NonNullable<Status['details']> = { name, kind: res.resource };
  if (res.group !== '') details.group = res.group;
  return details;
}

export function notFound(res: ResourceType, name: string): ApiStatusError {
  return failure(404, 'NotFound', `${qualifiedResource(res)} "${name}" not found`, resourceDetails(res, name));
}

/** A path no resource serves. */
export function pathNotFound(): ApiStatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

/**
 * 404 for an API group kube has and this server deliberately does not serve, saying so
 * (kubectl prints the message after "Error from server (NotFound):").
 */
export function notServed(group: string, resource: string, why: string): ApiStatusError {
  return failure(404, 'NotFound', `the server could not find the requested resource (${resource}.${group}): ${why}`, { group, kind: resource });
}

export function alreadyExists(res: ResourceType, name: string): ApiStatusError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(res)} "${name}" already exists`, resourceDetails(res, name));
}

export const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(res: ResourceType, name: string, why: string = MODIFIED_MESSAGE, resourceLabel: string = qualifiedResource(res)): ApiStatusError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${resourceLabel} "${name}": ${why}`, resourceDetails(res, name));
}

/** A server-side apply conflict: the message lists the conflicting fields and managers. */
export function applyConflict(message: string): ApiStatusError {
  return failure(409, 'Conflict', message);
}

export interface FieldCause {
  type: string;
  message: string;
  field: string;
}

/** 422 Invalid with one cause per field error, message `Pod "x" is invalid: field: message`. */
export function invalid(res: ResourceType, name: string, causes: FieldCause[]): ApiStatusError {
  const texts = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = texts.length === 1 ? texts[0]! : `[${texts.join(', ')}]`;
  const statusCauses: StatusCause[] = causes.map((c) => ({ reason: c.type, message: c.message, field: c.field }));
  return failure(422, 'Invalid', `${qualifiedKind(res)} "${name}" is invalid: ${summary}`, {
    name,
    ...(res.group !== '' ? { group: res.group } : {}),
    kind: res.kind,
    causes: statusCauses,
  });
}

export function badRequest(message: string): ApiStatusError {
  return failure(400, 'BadRequest', message);
}

export function unauthorized(): ApiStatusError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(res: ResourceType, name: string, why: string, causes?: StatusCause[]): ApiStatusError {
  return failure(403, 'Forbidden', `${qualifiedResource(res)} "${name}" is forbidden: ${why}`, {
    ...resourceDetails(res, name),
    ...(causes ? { causes } : {}),
  });
}

export function methodNotAllowed(): ApiStatusError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** 410 for a watch or list from a compacted resourceVersion. */
export function expired(message: string): ApiStatusError {
  return failure(410, 'Expired', message);
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiStatusError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {
    causes: [{ reason: 'UnsupportedMediaType', message: contentType }],
  });
}

export function requestEntityTooLarge(limitBytes: number): ApiStatusError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function internalError(message: string): ApiStatusError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function serviceUnavailable(message: string): ApiStatusError {
  return failure(503, 'ServiceUnavailable', message);
}

export function timeout(message: string): ApiStatusError {
  return failure(504, 'Timeout', message);
}

/** The Success Status some verbs answer with (binding, eviction, delete of some kinds). */
export function success(code: number, details?: Status['details']): Status & { code: number } {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code, ...(details ? { details } : {}) };
}
