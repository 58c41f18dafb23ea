/**
 * Pull policy as the kubelet applies it, decided in pure code; images reach nodes only by
 * `clusterlab image load`, so a pull usually fails and "present locally" is what matters.
 */
import type { Container } from 'kubernetes-types/core/v1.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The API server normally sets it; the same default when it did not: Always for :latest or no tag. */
export function effectivePullPolicy(container: Container): PullPolicy {
  const policy = container.imagePullPolicy;
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  const image = container.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export type PullDecision =
  /** Use the local image without pulling. */
  | { action: 'use-local' }
  /** Try a pull; `presentLocally` says whether to fall back to the local image if it fails. */
  | { action: 'pull'; presentLocally: boolean }
  | { action: 'never-pull-missing' };

export function decidePull(policy: PullPolicy, presentLocally: boolean): PullDecision {
  if (policy === 'Never') return presentLocally ? { action: 'use-local' } : { action: 'never-pull-missing' };
  if (policy === 'IfNotPresent' && presentLocally) return { action: 'use-local' };
  return { action: 'pull', presentLocally };
}

export const imageMessages = {
  alreadyPresent: (image: string) => `Container image "${image}" already present on machine`,
  alreadyPresentPullFailed: (image: string, err: string) =>
    `Container image "${image}" already present on machine; pulling it failed, so the local copy is used (clusterlab has no registry: ${err})`,
  pulling: (image: string) => `Pulling image "${image}"`,
  pulled: (image: string, ms: number, sizeBytes: number) =>
    `Successfully pulled image "${image}" in ${(ms / 1000).toFixed(3)}s (${(ms / 1000).toFixed(3)}s including waiting). Image size: ${sizeBytes} bytes.`,
  pullFailed: (image: string, err: string) => `Failed to pull image "${image}": ${err}`,
  backOff: (image: string) => `Back-off pulling image "${image}"`,
  neverPull: (image: string) => `Container image "${image}" is not present with pull policy of Never`,
} as const;
