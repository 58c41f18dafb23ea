/**
 * Pod volumes as directories on the node (under AGENT_STATE_DIR/pods/<uid>/volumes), bind-
 * mounted into containers: emptyDir, configMap, secret, downwardAPI, projected (of those) and
 * hostPath. Contents are (re)written before containers start.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { podFieldValue, resourceFieldValue, secretData, type ObjectSource, type PodRuntimeFields } from './env.js';

/** A volume cannot be set up: the kubelet's FailedMount (the container keeps waiting). */
export class VolumeError extends Error {
  constructor(
    readonly volume: string,
    message: string,
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${message}`);
    this.name = 'VolumeError';
  }
}

const DEFAULT_FILE_MODE = 0o644;

export class VolumeManager {
  constructor(
    private readonly stateDir: string,
    private readonly source: ObjectSource,
  ) {}

  podDir(uid: string): string {
    return path.join(this.stateDir, 'pods', uid);
  }

  /** Sets up every volume of the pod; returns volume name -> host path. */
  async prepare(pod: Pod, fields: PodRuntimeFields): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? '';
    const paths = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      paths.set(volume.name, await this.prepareVolume(pod, uid, volume, fields));
    }
    return paths;
  }

  async removePod(uid: string): Promise<void> {
    if (!uid) return;
    await fs.promises.rm(this.podDir(uid), { recursive: true, force: true });
  }

  /** Pod uids that have a directory here (for the orphan sweep). */
  listPodUids(): string[] {
    try {
      return fs.readdirSync(path.join(this.stateDir, 'pods'));
    } catch {
      return [];
    }
  }

  private async prepareVolume(pod: Pod, uid: string, volume: Volume, fields: PodRuntimeFields): Promise<string> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const dir = (type: string) => path.join(this.podDir(uid), 'volumes', type, volume.name);
    if (volume.hostPath) {
      const hostPath = volume.hostPath.path;
      if (volume.hostPath.type === 'DirectoryOrCreate') fs.mkdirSync(hostPath, { recursive: true });
      else if (volume.hostPath.type === 'FileOrCreate' && !fs.existsSync(hostPath)) {
        fs.mkdirSync(path.dirname(hostPath), { recursive: true });
        fs.writeFileSync(hostPath, '');
      } else if ((volume.hostPath.type === 'Directory' || volume.hostPath.type === 'File') && !fs.existsSync(hostPath)) {
        throw new VolumeError(volume.name, `hostPath type check failed: ${hostPath} does not exist`);
      }
      return hostPath;
    }
    if (volume.configMap) {
      const target = dir('configmap');
      const cm = await this.source.getConfigMap(namespace, volume.configMap.name ?? '');
      if (!cm && !volume.configMap.optional) throw new VolumeError(volume.name, `configmap "${volume.configMap.name}" not found`);
      const data: Record<string, Buffer> = {};
      for (const [key, value] of Object.entries(cm?.data ?? {})) data[key] = Buffer.from(value);
      for (const [key, value] of Object.entries(cm?.binaryData ?? {})) data[key] = Buffer.from(value, 'base64');
      writeFiles(target, projectKeys(volume.name, data, volume.configMap.items, volume.configMap.optional), volume.configMap.defaultMode);
      return target;
    }
    if (volume.secret) {
      const target = dir('secret');
      const secret = await this.source.getSecret(namespace, volume.secret.secretName ?? '');
      if (!secret && !volume.secret.optional) throw new VolumeError(volume.name, `secret "${volume.secret.secretName}" not found`);
      const data: Record<string, Buffer> = {};
      for (const [key, value] of Object.entries(secret ? secretData(secret) : {})) data[key] = Buffer.from(value);
      writeFiles(target, projectKeys(volume.name, data, volume.secret.items, volume.secret.optional), volume.secret.defaultMode);
      return target;
    }
    if (volume.downwardAPI) {
      const target = dir('downwardapi');
      writeFiles(target, downwardFiles(pod, volume.downwardAPI.items ?? [], fields), volume.downwardAPI.defaultMode);
      return target;
    }
    if (volume.projected) {
      const target = dir('projected');
      const files: ProjectedFile[] = [];
      for (const source of volume.projected.sources ?? []) {
        if (source.configMap) {
          const cm = await this.source.getConfigMap(namespace, source.configMap.name ?? '');
          if (!cm && !source.configMap.optional) throw new VolumeError(volume.name, `configmap "${source.configMap.name}" not found`);
          const data: Record<string, Buffer> = {};
          for (const [key, value] of Object.entries(cm?.data ?? {})) data[key] = Buffer.from(value);
          files.push(...projectKeys(volume.name, data, source.configMap.items, source.configMap.optional));
        } else if (source.secret) {
          const secret = await this.source.getSecret(namespace, source.secret.name ?? '');
          if (!secret && !source.secret.optional) throw new VolumeError(volume.name, `secret "${source.secret.name}" not found`);
          const data: Record<string, Buffer> = {};
          for (const [key, value] of Object.entries(secret ? secretData(secret) : {})) data[key] = Buffer.from(value);
          files.push(...projectKeys(volume.name, data, source.secret.items, source.secret.optional));
        } else if (source.downwardAPI) {
          files.push(...downwardFiles(pod, source.downwardAPI.items ?? [], fields));
        } else if (source.serviceAccountToken) {
          // No token issuer in clusterlab: the file exists so that programs reading it start.
          files.push({ path: source.serviceAccountToken.path, content: Buffer.alloc(0) });
        }
      }
      writeFiles(target, files, volume.projected.defaultMode);
      return target;
    }
    // emptyDir, and any volume type the agent does not know: an empty directory.
    const target = dir('empty-dir');
    fs.mkdirSync(target, { recursive: true });
    return target;
  }
}

interface ProjectedFile {
  path: string;
  content: Buffer;
  mode?: number;
}

function projectKeys(volume: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, optional: boolean | undefined): ProjectedFile[] {
  if (!items || items.length === 0) return Object.entries(data).map(([key, content]) => ({ path: key, content }));
  const files: ProjectedFile[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(volume, `configuration key "${item.key}" not found`);
    }
    files.push({ path: item.path, content, ...(item.mode !== undefined ? { mode: item.mode } : {}) });
  }
  return files;
}

function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[], fields: PodRuntimeFields): ProjectedFile[] {
  return items.map((item) => {
    let value = '';
    if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath, fields);
    else if (item.resourceFieldRef) {
      const container: Container = pod.spec?.containers.find((c) => c.name === item.resourceFieldRef?.containerName) ?? { name: '' };
      value = resourceFieldValue(container, item.resourceFieldRef.resource, item.resourceFieldRef.divisor);
    }
    return { path: item.path, content: Buffer.from(value), ...(item.mode !== undefined ? { mode: item.mode } : {}) };
  });
}

/** Replaces the directory's contents (not the directory: running containers have it mounted). */
function writeFiles(dir: string, files: ProjectedFile[], defaultMode: number | undefined): void {
  fs.mkdirSync(dir, { recursive: true });
  const wanted = new Set(files.map((f) => f.path.split('/')[0]));
  for (const entry of fs.readdirSync(dir)) if (!wanted.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  for (const file of files) {
    const normalized = path.normalize(file.path);
    if (normalized.startsWith('..') || path.isAbsolute(normalized)) continue; // the API validates this; never escape dir
    const target = path.join(dir, normalized);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content);
    fs.chmodSync(target, file.mode ?? defaultMode ?? DEFAULT_FILE_MODE);
  }
}

/** Docker binds for a container's volumeMounts: host:container[:ro]. */
export function bindsFor(container: Container, volumePaths: ReadonlyMap<string, string>): string[] {
  const binds: string[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const hostPath = volumePaths.get(mount.name);
    if (hostPath === undefined) continue;
    const source = mount.subPath ? path.join(hostPath, mount.subPath) : hostPath;
    if (mount.subPath && !fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
    binds.push(`${source}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
  }
  return binds;
}
