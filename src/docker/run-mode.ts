import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { engineCacheFile, readJsonCache, writeJsonCache } from '../cluster/state.js';
import { ignoreNotFound } from './provider.js';
import type { RunMode } from './node-container.js';

interface EngineCache {
  runMode?: RunMode;
}

/**
 * Whether this engine grants --privileged. Some refuse it (a VM without CAP_SYS_RESOURCE:
 * runc fails with "unable to apply caps"); nodes then run with explicit capabilities.
 * Probed once per engine with a throwaway container, then remembered.
 * CLUSTERLAB_RUN_MODE=privileged|capabilities overrides the probe.
 */
export async function detectRunMode(docker: Docker, image: string, engineId: string, env: NodeJS.ProcessEnv = process.env): Promise<RunMode> {
  const forced = env.CLUSTERLAB_RUN_MODE;
  if (forced === 'privileged' || forced === 'capabilities') return forced;
  const cacheFile = engineCacheFile(engineId, env);
  const cached = await readJsonCache<EngineCache>(cacheFile);
  if (cached?.runMode) return cached.runMode;
  const runMode: RunMode = (await privilegedWorks(docker, image)) ? 'privileged' : 'capabilities';
  await writeJsonCache(cacheFile, { ...cached, runMode });
  return runMode;
}

export async function privilegedWorks(docker: Docker, image: string): Promise<boolean> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['true'],
    Cmd: [],
    Labels: { 'dev.clusterlab.managed': 'true', 'dev.clusterlab.probe': 'privileged' },
    HostConfig: { Privileged: true, AutoRemove: false },
  });
  try {
    await container.start();
    await container.wait();
    return true;
  } catch {
    return false;
  } finally {
    await ignoreNotFound(container.remove({ force: true, v: true }));
  }
}

/**
 * Whether nodes get the host's /lib/modules (read-only), so their dockerd can load ip_vs and
 * vxlan: only when the engine runs on this very Linux machine and the folder exists (a bind
 * of a missing path fails; under Docker Desktop the engine's kernel is a VM's).
 */
export function shouldMountKernelModules(engineOs: string): boolean {
  return engineOs === 'linux' && process.platform === 'linux' && existsSync('/lib/modules');
}
