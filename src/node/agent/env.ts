/**
 * A container's environment as Kubernetes builds it: envFrom first, then env (later wins),
 * with $(VAR) references to earlier variables expanded, and values taken from the pod's
 * fields, ConfigMaps and Secrets.
 */
import type { ConfigMap, Container, EnvVar, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from './quantity.js';

/** Reads the objects env may refer to (the API in production, a map in tests). */
export interface ObjectSource {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** A container cannot be created as configured: the kubelet's CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** Where the pod runs, for field references that the pod object does not yet say. */
export interface PodRuntimeFields {
  podIP: string;
  hostIP: string;
  nodeName: string;
}

export async function resolveEnv(pod: Pod, container: Container, source: ObjectSource, fields: PodRuntimeFields): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await source.getConfigMap(namespace, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [key, value] of Object.entries(cm.data ?? {})) env.set(prefix + key, value);
    } else if (from.secretRef) {
      const secret = await source.getSecret(namespace, from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [key, value] of Object.entries(secretData(secret))) env.set(prefix + key, value);
    }
  }
  for (const variable of container.env ?? []) {
    const value = await envValue(variable, pod, container, source, fields, env);
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}

async function envValue(
  variable: EnvVar,
  pod: Pod,
  container: Container,
  source: ObjectSource,
  fields: PodRuntimeFields,
  earlier: Map<string, string>,
): Promise<string | undefined> {
  if (variable.value !== undefined) return expandReferences(variable.value, earlier);
  const from = variable.valueFrom;
  if (!from) return '';
  const namespace = pod.metadata?.namespace ?? 'default';
  if (from.fieldRef) return podFieldValue(pod, from.fieldRef.fieldPath, fields);
  if (from.resourceFieldRef) return resourceFieldValue(container, from.resourceFieldRef.resource, from.resourceFieldRef.divisor);
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = await source.getConfigMap(namespace, ref.name ?? '');
    const value = cm?.data?.[ref.key];
    if (value !== undefined) return value;
    if (ref.optional) return undefined;
    if (!cm) throw new ContainerConfigError(`configmap "${ref.name}" not found`);
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const secret = await source.getSecret(namespace, ref.name ?? '');
    const value = secret ? secretData(secret)[ref.key] : undefined;
    if (value !== undefined) return value;
    if (ref.optional) return undefined;
    if (!secret) throw new ContainerConfigError(`secret "${ref.name}" not found`);
    throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
  }
  return '';
}

/** A pod field by its downward-API path (metadata.name, status.podIP, metadata.labels['x'], …). */
export function podFieldValue(pod: Pod, fieldPath: string, fields: PodRuntimeFields): string {
  const meta = pod.metadata ?? {};
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (mapKey) return (mapKey[1] === 'labels' ? meta.labels : meta.annotations)?.[mapKey[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? fields.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return fields.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return fields.hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** limits.cpu etc. in units of the divisor, rounded up as the kubelet does. */
export function resourceFieldValue(container: Container, resource: string, divisor: string | undefined): string {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  const quantities = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const raw = name ? quantities?.[name] : undefined;
  const value = parseQuantity(raw) ?? (kind === 'requests' && name ? parseQuantity(container.resources?.limits?.[name]) : undefined) ?? 0;
  const unit = parseQuantity(divisor) ?? 1;
  return String(Math.ceil(value / unit - 1e-9));
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}="${value}"`)
    .join('\n');
}

export function secretData(secret: Secret): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) result[key] = Buffer.from(value, 'base64').toString('utf8');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) result[key] = value;
  return result;
}

/** Expands $(VAR) from `vars`; $$ escapes; unknown references stay as written (Kubernetes' rules). */
export function expandReferences(text: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close === -1) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      const value = vars.get(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}
