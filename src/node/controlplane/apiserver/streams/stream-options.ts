/**
 * The query parameters of the stream subresources, read as kube-apiserver reads them
 * (PodExecOptions, PodAttachOptions, PodLogOptions, PodPortForwardOptions), and what goes
 * on to the node agent (the kubelet's names: input/output/error/tty, port).
 */
import type { ResourceType } from '../resources.js';
import { badRequest, invalid, type FieldCause } from '../status.js';

export interface ExecOptions {
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Go's strconv.ParseBool, which query booleans go through. */
function parseBool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw badRequest(`${name}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

export function execOptions(query: URLSearchParams, subresource: 'exec' | 'attach'): ExecOptions {
  const container = query.get('container') || undefined;
  const opts: ExecOptions = {
    ...(container !== undefined ? { container } : {}),
    command: subresource === 'exec' ? query.getAll('command') : [],
    stdin: parseBool(query, 'stdin'),
    stdout: parseBool(query, 'stdout'),
    stderr: parseBool(query, 'stderr'),
    tty: parseBool(query, 'tty'),
  };
  if (subresource === 'exec' && opts.command.length === 0) throw badRequest('you must specify at least one command for the container');
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

/** The agent's exec/attach query (kube-apiserver's streamParams). */
export function agentStreamQuery(opts: ExecOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (opts.stdin) query.append('input', '1');
  if (opts.stdout) query.append('output', '1');
  if (opts.stderr) query.append('error', '1');
  if (opts.tty) query.append('tty', '1');
  for (const c of opts.command) query.append('command', c);
  return query;
}

export interface LogOptions {
  container?: string;
  previous: boolean;
  /** What the agent is asked (kube-apiserver's LogLocation: only what is set). */
  agentQuery: URLSearchParams;
}

function optionalInteger(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${name}: Invalid value: "${value}": must be an integer`);
  return Number(value);
}

/** PodLogOptions from the query, validated as kube's ValidatePodLogOptions (422 PodLogOptions "name" is invalid). */
export function logOptions(query: URLSearchParams, pods: ResourceType, podName: string): LogOptions {
  const follow = parseBool(query, 'follow');
  const previous = parseBool(query, 'previous');
  const timestamps = parseBool(query, 'timestamps');
  const tailLines = optionalInteger(query, 'tailLines');
  const sinceSeconds = optionalInteger(query, 'sinceSeconds');
  const limitBytes = optionalInteger(query, 'limitBytes');
  const sinceTime = query.get('sinceTime') || undefined;
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime))) {
    throw badRequest(`sinceTime: Invalid value: "${sinceTime}": parsing time "${sinceTime}" as RFC3339: cannot parse`);
  }

  const causes: FieldCause[] = [];
  if (tailLines !== undefined && tailLines < 0) causes.push({ type: 'FieldValueInvalid', field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) causes.push({ type: 'FieldValueInvalid', field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) {
    causes.push({ type: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (sinceSeconds !== undefined && sinceSeconds < 1) {
    causes.push({ type: 'FieldValueInvalid', field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  }
  if (causes.length > 0) throw invalid({ ...pods, kind: 'PodLogOptions' }, podName, causes);

  const agentQuery = new URLSearchParams();
  if (follow) agentQuery.append('follow', 'true');
  if (previous) agentQuery.append('previous', 'true');
  if (timestamps) agentQuery.append('timestamps', 'true');
  if (sinceSeconds !== undefined) agentQuery.append('sinceSeconds', String(sinceSeconds));
  if (sinceTime !== undefined) agentQuery.append('sinceTime', sinceTime);
  if (tailLines !== undefined) agentQuery.append('tailLines', String(tailLines));
  if (limitBytes !== undefined) agentQuery.append('limitBytes', String(limitBytes));
  const container = query.get('container') || undefined;
  return { ...(container !== undefined ? { container } : {}), previous, agentQuery };
}

/** The ports of a WebSocket port-forward (`?ports=80&ports=8080` or `?ports=80,8080`). */
export function portForwardPorts(query: URLSearchParams): number[] {
  const ports = query
    .getAll('ports')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return ports.map((text) => {
    const port = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535)) throw badRequest(`ports: Invalid value: "${text}": must be a valid port number`);
    return port;
  });
}
