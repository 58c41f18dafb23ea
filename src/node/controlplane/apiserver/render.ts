/**
 * Objects and lists in the form the client asked for: as they are, as a meta.k8s.io Table
 * (kubectl get), or as PartialObjectMetadata.
 */
import type { ResponseForm } from './negotiation.js';
import { groupVersionOf, type ResourceType } from './resources.js';
import type { KubeObject } from './strategy.js';
import { toTable } from './tables.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface RenderOptions {
  includeObject?: IncludeObject;
  now?: Date;
}

export function renderObject(form: ResponseForm, res: ResourceType, obj: KubeObject, opts: RenderOptions = {}): object {
  switch (form.as) {
    case 'object':
      return obj;
    case 'Table':
      return { ...toTable(res.kind, [obj], tableOptions(opts, obj.metadata.resourceVersion)), apiVersion: form.apiVersion };
    case 'PartialObjectMetadata':
      return { kind: 'PartialObjectMetadata', apiVersion: form.apiVersion, metadata: obj.metadata };
  }
}

export interface ListView {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export function renderList(form: ResponseForm, res: ResourceType, list: ListView, opts: RenderOptions = {}): object {
  const metadata = { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue } : {}) };
  switch (form.as) {
    case 'object':
      // Items of a list carry no kind/apiVersion, as kube-apiserver sends them.
      return {
        kind: `${res.kind}List`,
        apiVersion: groupVersionOf(res),
        metadata,
        items: list.items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
      };
    case 'Table':
      return {
        ...toTable(res.kind, list.items, { ...tableOptions(opts, list.resourceVersion), ...(list.continue ? { continue: list.continue } : {}) }),
        apiVersion: form.apiVersion,
      };
    case 'PartialObjectMetadata':
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: form.apiVersion,
        metadata,
        items: list.items.map((obj) => ({ kind: 'PartialObjectMetadata', apiVersion: form.apiVersion, metadata: obj.metadata })),
      };
  }
}

function tableOptions(opts: RenderOptions, resourceVersion: string | undefined): Parameters<typeof toTable>[2] {
  return {
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    includeObject: opts.includeObject ?? 'Metadata',
    now: opts.now ?? new Date(),
  };
}
