import type Docker from 'dockerode';
import { connectDocker, type EngineInfo } from '../docker/client.js';
import { DockerProvider } from '../docker/provider.js';

/** What every cluster operation works with: one checked engine connection. */
export interface ClusterRuntime {
  docker: Docker;
  provider: DockerProvider;
  info: EngineInfo;
}

export async function openRuntime(env: NodeJS.ProcessEnv = process.env): Promise<ClusterRuntime> {
  const { docker, info } = await connectDocker(env);
  return { docker, provider: new DockerProvider(docker), info };
}
