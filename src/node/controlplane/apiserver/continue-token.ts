/**
 * List continue tokens: the store revision the first page was read at and the last key sent,
 * so every page of one list reads the same snapshot (as kube's etcd3 storage does).
 */

export interface ContinuePosition {
  revision: number;
  lastKey: string;
}

export function encodeContinue(pos: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: pos.revision, start: pos.lastKey }), 'utf8').toString('base64url');
}

/** Undefined when the token is not one of ours. */
export function decodeContinue(token: string): ContinuePosition | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv !== 'number' || !Number.isInteger(parsed.rv) || parsed.rv < 1 || typeof parsed.start !== 'string') return undefined;
    return { revision: parsed.rv, lastKey: parsed.start };
  } catch {
    return undefined;
  }
}
