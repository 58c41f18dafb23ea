import { access } from 'node:fs/promises';
import path from 'node:path';
import { writeDockerClientCerts } from '../cluster/lifecycle.js';
import { readClusterPki, requireCluster } from '../cluster/nodes.js';
import { openRuntime } from '../cluster/runtime.js';
import { dockerCertDir } from '../cluster/state.js';
import { UserError } from '../common/errors.js';
import { ACTIVE_ENV_MARKER } from '../docker/client.js';
import { stringOption } from './args.js';

type Shell = 'bash' | 'zsh' | 'sh' | 'fish' | 'powershell';

const VARIABLES = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', ACTIVE_ENV_MARKER] as const;

/** Shell lines that set (or, with undefined values, unset) variables. Pure, unit-tested. */
export function shellExports(vars: Record<string, string | undefined>, shell: Shell): string[] {
  return Object.entries(vars).map(([key, value]) => {
    const quoted = JSON.stringify(value ?? '');
    if (shell === 'fish') return value === undefined ? `set -e ${key};` : `set -gx ${key} ${quoted};`;
    if (shell === 'powershell') return value === undefined ? `Remove-Item Env:\\${key} -ErrorAction SilentlyContinue` : `$Env:${key} = ${quoted}`;
    return value === undefined ? `unset ${key}` : `export ${key}=${quoted}`;
  });
}

function usageComment(shell: Shell, command: string): string {
  if (shell === 'fish') return `# Run this command to configure your shell:\n# ${command} | source`;
  if (shell === 'powershell') return `# Run this command to configure your shell:\n# & ${command} | Invoke-Expression`;
  return `# Run this command to configure your shell:\n# eval "$(${command})"`;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/** `eval "$(clusterlab env)"`: the host's docker CLI talks to a swarm manager over TLS. */
export async function env(_args: string[], options: Record<string, unknown>): Promise<number> {
  const shell = stringOption(options, 'shell') as Shell;
  const name = stringOption(options, 'name')!;
  const nameFlag = name === 'lab' ? '' : ` --name ${name}`;
  if (options.unset) {
    const lines = shellExports(Object.fromEntries(VARIABLES.map((v) => [v, undefined])), shell);
    process.stdout.write([...lines, usageComment(shell, `clusterlab env --unset${nameFlag}`)].join('\n') + '\n');
    return 0;
  }

  const rt = await openRuntime();
  const cluster = await requireCluster(rt, name);
  if (cluster.engine !== 'swarm') throw new UserError(`cluster "${name}" runs ${cluster.engine}, not swarm`, { hint: 'use kubectl with the clusterlab-NAME context instead' });
  const nodes = await rt.provider.listNodes(name);
  const manager = nodes.find((n) => n.role === 'manager' && n.state === 'running' && n.dockerPort !== undefined);
  if (!manager) {
    throw new UserError(`no manager of cluster "${name}" is running`, { hint: `start the cluster (clusterlab start${nameFlag}) or a manager node` });
  }

  // The local certificate copy is a cache: rebuild it from a manager when it is gone.
  const certDir = dockerCertDir(name);
  if (!(await exists(path.join(certDir, 'key.pem')))) {
    const pki = await readClusterPki(rt, nodes);
    await writeDockerClientCerts(name, { caPem: pki.ca.certPem, certPem: pki.client.certPem, keyPem: pki.client.keyPem });
  }

  const lines = shellExports(
    {
      DOCKER_HOST: `tcp://127.0.0.1:${manager.dockerPort}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certDir,
      [ACTIVE_ENV_MARKER]: name,
    },
    shell,
  );
  process.stdout.write([...lines, `# talks to ${manager.name} (${manager.ip}) of cluster "${name}"`, usageComment(shell, `clusterlab env${nameFlag}`)].join('\n') + '\n');
  return 0;
}
