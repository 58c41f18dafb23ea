/**
 * Reads a request path the way kube-apiserver routes it:
 *   /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
 *   /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]
 * `/api/v1/namespaces/NAME[/status]` addresses a Namespace itself.
 */
import { findResource, type ResourceType } from './resources.js';

export type PathInfo =
  | { type: 'resource'; res: ResourceType; namespace?: string; name?: string; subresource?: string }
  /** A group-version's root: /api/v1, /apis/apps/v1. */
  | { type: 'groupVersion'; group: string; version: string }
  | { type: 'unknown' };

export function parseResourcePath(pathname: string): PathInfo {
  const segments = pathname.split('/').filter((s) => s !== '').map(safeDecode);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else {
    return { type: 'unknown' };
  }
  if (rest.length === 0) return { type: 'groupVersion', group, version };

  // /namespaces/NS/RESOURCE... when RESOURCE is a namespaced kind of this group-version
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const res = findResource(group, version, rest[2]!);
    if (res?.namespaced) {
      if (rest.length > 5) return { type: 'unknown' };
      return withOptional({ type: 'resource', res, namespace: rest[1]! }, rest[3], rest[4]);
    }
  }
  const res = findResource(group, version, rest[0]!);
  if (!res || rest.length > 3) return { type: 'unknown' };
  return withOptional({ type: 'resource', res }, rest[1], rest[2]);
}

function withOptional(
  info: { type: 'resource'; res: ResourceType; namespace?: string },
  name: string | undefined,
  subresource: string | undefined,
): PathInfo {
  return {
    ...info,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
