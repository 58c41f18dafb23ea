import type { Status } from 'kubernetes-types/meta/v1.js';

/** A non-2xx answer: the server's Status object, with its HTTP code. */
export class ApiError extends Error {
  readonly code: number;
  /** Status.reason: NotFound, AlreadyExists, Conflict, Expired, Gone, Forbidden, … ('' when none). */
  readonly reason: string;
  readonly status: Status;

  constructor(code: number, status: Status) {
    super(status.message ?? `the server answered ${code}${status.reason ? ` (${status.reason})` : ''}`);
    this.name = 'ApiError';
    this.code = code;
    this.reason = status.reason ?? '';
    this.status = status;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409;
}

/** 410 Gone / Expired: the requested resourceVersion was compacted away; re-list. */
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

/** The server's error body as a Status: a Status object when it sent one, otherwise one made up from the text. */
export function statusFromBody(code: number, bodyText: string): Status {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    if (parsed !== null && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status') {
      return parsed as Status;
    }
  } catch {
    // not JSON: fall through and describe the raw text
  }
  const text = bodyText.trim().slice(0, 500);
  return {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    reason: reasonForCode(code),
    message: text === '' ? `the server answered ${code}` : text,
  };
}

function reasonForCode(code: number): string {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 409: return 'Conflict';
    case 410: return 'Expired';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'Unknown';
  }
}
