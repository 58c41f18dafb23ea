import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, podFieldValue, resolveEnv, resourceFieldValue, type ObjectSource } from '../../src/node/agent/env.js';
import { bindsFor, VolumeError, VolumeManager } from '../../src/node/agent/volumes.js';

const configMaps: Record<string, ConfigMap> = {
  settings: { metadata: { name: 'settings' }, data: { MODE: 'fast', LEVEL: '3', 'app.conf': 'x=1' } },
};
const secrets: Record<string, Secret> = {
  creds: { metadata: { name: 'creds' }, data: { password: Buffer.from('s3cret').toString('base64') } },
};
const source: ObjectSource = {
  getConfigMap: async (_ns, name) => configMaps[name],
  getSecret: async (_ns, name) => secrets[name],
};
const fields = { podIP: '10.244.1.5', hostIP: '172.30.0.3', nodeName: 'worker1' };

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-9', labels: { app: 'web', tier: 'front' } },
  spec: { nodeName: 'worker1', containers: [{ name: 'app', resources: { limits: { cpu: '1500m', memory: '64Mi' } } }] },
};

describe('env', () => {
  it('applies envFrom, then env in order, with references to earlier variables', async () => {
    const env = await resolveEnv(
      pod,
      {
        name: 'app',
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
        env: [
          { name: 'CFG_MODE', value: 'slow' },
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LEVEL' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'URL', value: 'http://$(IP):80/$(NAME)' },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
      },
      source,
      fields,
    );
    expect(Object.fromEntries(env)).toEqual({
      CFG_MODE: 'slow',
      CFG_LEVEL: '3',
      'CFG_app.conf': 'x=1',
      password: 's3cret',
      NAME: 'web',
      NS: 'shop',
      IP: '10.244.1.5',
      NODE: 'worker1',
      LEVEL: '3',
      PASS: 's3cret',
      URL: 'http://10.244.1.5:80/web',
    });
    expect([...env.keys()].indexOf('CFG_MODE')).toBe(0); // envFrom order first, overridden in place
  });

  it.each([
    [{ configMapKeyRef: { name: 'absent', key: 'k' } }, 'configmap "absent" not found'],
    [{ configMapKeyRef: { name: 'settings', key: 'nope' } }, "couldn't find key nope in ConfigMap shop/settings"],
    [{ secretKeyRef: { name: 'creds', key: 'user' } }, "couldn't find key user in Secret shop/creds"],
  ])('fails with the kubelet message for %j', async (valueFrom, message) => {
    const promise = resolveEnv(pod, { name: 'app', env: [{ name: 'X', valueFrom }] }, source, fields);
    await expect(promise).rejects.toBeInstanceOf(ContainerConfigError);
    await expect(promise).rejects.toThrow(message);
  });

  it('reads labels and resource fields', () => {
    expect(podFieldValue(pod, "metadata.labels['tier']", fields)).toBe('front');
    expect(podFieldValue(pod, 'metadata.labels', fields)).toBe('app="web"\ntier="front"');
    expect(resourceFieldValue(pod.spec!.containers[0]!, 'limits.cpu', undefined)).toBe('2');
    expect(resourceFieldValue(pod.spec!.containers[0]!, 'limits.memory', '1Mi')).toBe('64');
  });
});

describe('volumes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-dev-vol-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes configMap, secret and downwardAPI files, makes emptyDirs, and binds them', async () => {
    const volumes = new VolumeManager(dir, source);
    const volumePod: Pod = {
      ...pod,
      spec: {
        ...pod.spec!,
        volumes: [
          { name: 'conf', configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
          { name: 'creds', secret: { secretName: 'creds', defaultMode: 0o400 } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'scratch', emptyDir: {} },
          { name: 'host', hostPath: { path: path.join(dir, 'host-data'), type: 'DirectoryOrCreate' } },
        ],
      },
    };
    const paths = await volumes.prepare(volumePod, fields);
    expect(fs.readFileSync(path.join(paths.get('conf')!, 'conf/app.conf'), 'utf8')).toBe('x=1');
    expect(fs.existsSync(path.join(paths.get('conf')!, 'MODE'))).toBe(false);
    const secretFile = path.join(paths.get('creds')!, 'password');
    expect(fs.readFileSync(secretFile, 'utf8')).toBe('s3cret');
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o400);
    expect(fs.readFileSync(path.join(paths.get('info')!, 'labels'), 'utf8')).toBe('app="web"\ntier="front"');
    expect(fs.statSync(paths.get('scratch')!).isDirectory()).toBe(true);
    expect(paths.get('host')).toBe(path.join(dir, 'host-data'));
    expect(fs.statSync(path.join(dir, 'host-data')).isDirectory()).toBe(true);
    expect(paths.get('scratch')!.startsWith(path.join(dir, 'pods', 'u-9'))).toBe(true);

    const binds = bindsFor(
      { name: 'app', volumeMounts: [{ name: 'conf', mountPath: '/etc/app', readOnly: true }, { name: 'scratch', mountPath: '/data', subPath: 'sub' }] },
      paths,
    );
    expect(binds).toEqual([`${paths.get('conf')}:/etc/app:ro`, `${path.join(paths.get('scratch')!, 'sub')}:/data`]);

    expect(volumes.listPodUids()).toEqual(['u-9']);
    await volumes.removePod('u-9');
    expect(volumes.listPodUids()).toEqual([]);
  });

  it('fails to mount a missing configMap unless optional', async () => {
    const volumes = new VolumeManager(dir, source);
    const missing = (optional: boolean): Pod => ({ ...pod, spec: { ...pod.spec!, volumes: [{ name: 'v', configMap: { name: 'absent', optional } }] } });
    await expect(volumes.prepare(missing(false), fields)).rejects.toThrow(new VolumeError('v', 'configmap "absent" not found'));
    await expect(volumes.prepare(missing(true), fields)).resolves.toBeInstanceOf(Map);
  });
});
