/**
 * Where pod specs live in the kinds this server serves, and the shapes defaulting and
 * validation both walk (container lists, volume sources). Plain JSON, read defensively: a
 * request body may hold anything.
 */
import { isJsonObject, type JsonObject } from './json-value.js';

/** The container lists of a pod spec, in the order Kubernetes validates them. */
export const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
export type ContainerList = (typeof CONTAINER_LISTS)[number];

/** Every member of v1.VolumeSource, in the order Kubernetes checks them: a volume sets one. */
export const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'cinder',
  'cephfs',
  'quobyte',
  'downwardAPI',
  'fc',
  'flexVolume',
  'configMap',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'storageos',
  'projected',
  'scaleIO',
  'csi',
  'ephemeral',
  'image',
] as const;

/** Kinds whose spec carries a pod template, and the path to the template from the object. */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The path from the object to its pod template, or undefined for kinds without one. */
export function podTemplatePath(kind: string): readonly string[] | undefined {
  return TEMPLATE_PATHS[kind];
}

/** The member at `path`, when every step is an object. */
export function getPath(root: unknown, path: readonly string[]): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (!isJsonObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function asObject(value: unknown): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}

/** The objects of a JSON array (other items skipped), or [] when it is not an array. */
export function objectsOf(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

export function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A string-to-string map (labels, selectors, data), non-string values dropped. */
export function stringMapOf(value: unknown): Record<string, string> | undefined {
  if (!isJsonObject(value)) return undefined;
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') result[k] = v;
  return result;
}
