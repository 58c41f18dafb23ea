/**
 * The cluster config file: versioned, strict, every problem reported at once
 * (the shape of kind's encoding/load.go + validate.go).
 *
 * ```yaml
 * apiVersion: clusterlab.dev/v1alpha1   # required; the only version so far
 * kind: Cluster                          # required
 * name: lab                              # optional DNS-1123 label, at most 40 characters
 *                                        #   (it prefixes container names); default "lab"
 * engine: swarm                          # swarm | kube; default swarm
 * kube:                                  # optional, engine kube only: node-failure timings
 *   nodeMonitorGracePeriodSeconds: 10    #   default 40 (Kubernetes'), 1..3600
 *   defaultTolerationSeconds: 20         #   default 300 (Kubernetes'), 0..86400
 * nodes:                                 # optional; default 1 manager ("leader") + 2 workers
 *   - name: leader                       # optional DNS-1123 label, unique; default from the role:
 *                                        #   leader, manager2, manager3…, worker1, worker2…
 *                                        #   (by the node's place among the nodes of its role)
 *     role: manager                      # manager | worker; required; at least one manager
 *     labels: {zone: a}                  # optional; Kubernetes label rules for keys and values
 *     cpus: 1.5                          # optional; cores: 1.5, "1.5" or millicores "500m"
 *     memory: 512Mi                      # optional; at least 64Mi; see parseQuantityBytes
 *     ports:                             # optional; like kind's extraPortMappings
 *       - containerPort: 80              # 1..65535, required
 *         hostPort: 8080                 # 1..65535, required; a (listenAddress, hostPort,
 *                                        #   protocol) is bound once in the whole cluster
 *         listenAddress: 127.0.0.1       # optional IPv4/IPv6 address; default 127.0.0.1
 *         protocol: tcp                  # tcp | udp, any case; default tcp
 * ```
 *
 * Loading: YAML syntax (with line and column) → apiVersion (nothing else is
 * checked under a version we do not know) → the zod schema, strict about unknown
 * fields → cross-field rules (a manager, unique names, unique host ports) →
 * defaults → the internal ClusterSpec (spec.ts). The zod schema is the one
 * definition of the format: it validates, types the result and generates the
 * JSON Schema in schema/cluster.schema.json (test/unit/config-schema.test.ts
 * keeps that file in sync).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import * as z from 'zod';
import { UserError } from '../common/errors.js';
import { describeValue, didYouMean, formatPath, problemsFromIssue, type IssueRules, type LocatedProblem, type Segment } from '../common/schema-problems.js';
import { dns1123LabelProblem } from './names.js';
import { CPU_PATTERN, CPU_STRING_RE, QUANTITY_PATTERN, parseCpus, parseQuantityBytes } from './quantity.js';
import {
  DEFAULT_CLUSTER_NAME,
  KUBE_DEFAULT_SETTINGS,
  DEFAULT_MANAGER_COUNT,
  DEFAULT_NODE_COUNT,
  defaultNodeName,
  specFromFlags,
  type ClusterSpec,
  type NodeRole,
  type NodeSpec,
  type PortMapping,
} from './spec.js';

export const CONFIG_API_VERSION = 'clusterlab.dev/v1alpha1';
export const CONFIG_KIND = 'Cluster';
/** Cluster names prefix container, network and volume names, so they stay short. */
export const MAX_CLUSTER_NAME_LENGTH = 40;
export const MIN_MEMORY_BYTES = 64 * 1024 ** 2;
export const DEFAULT_LISTEN_ADDRESS = '127.0.0.1';

const CONFIG_HINT = 'see the "Cluster config" section of the README (JSON Schema: schema/cluster.schema.json)';

export interface ConfigProblem {
  /** Field path like `nodes[1].ports[0].hostPort`; '' for the file as a whole. */
  path: string;
  message: string;
  hint?: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

/** A config file with problems; the message has one line per problem. */
export class ConfigError extends UserError {
  readonly problems: ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: ConfigProblem[]) {
    super(problems.map((p) => formatProblem(source, p)).join('\n'), { hint: CONFIG_HINT });
    this.problems = problems;
    this.source = source;
  }
}

/** `lab.yaml:7:5: nodes[1].cpus: expected a number, got string "lots" — <hint>` */
export function formatProblem(source: string, p: ConfigProblem): string {
  const where = p.line === undefined ? source : `${source}:${p.line}:${p.column ?? 1}`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}${p.hint ? ` — ${p.hint}` : ''}`;
}

// ---------------------------------------------------------------------------
// Label rules (Kubernetes' IsQualifiedName / IsValidLabelValue)

const LABEL_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** For the JSON Schema (lengths of the prefix aside); labelKeyProblem is the authority. */
const LABEL_KEY_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$';
const LABEL_VALUE_PATTERN = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';
const LABEL_NAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', " +
  "and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')";

function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "a label key is an optional prefix and a name, separated by one '/' (e.g. 'example.com/zone')";
  const name = parts.length === 2 ? (parts[1] ?? '') : key;
  const prefix = parts.length === 2 ? (parts[0] ?? '') : undefined;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'prefix part must not be empty';
    if (prefix.length > 253) return `prefix part must be no more than 253 characters (has ${prefix.length})`;
    if (!DNS1123_SUBDOMAIN_RE.test(prefix)) {
      return (
        "prefix part must be a lowercase DNS-1123 subdomain: lower case alphanumeric characters, '-' or '.', " +
        "starting and ending with an alphanumeric character (e.g. 'example.com')"
      );
    }
  }
  if (name.length === 0) return 'name part must not be empty';
  if (name.length > 63) return `name part must be no more than 63 characters (has ${name.length})`;
  if (!LABEL_NAME_RE.test(name)) return `name part ${LABEL_NAME_RULE}`;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters (has ${value.length})`;
  if (value.length > 0 && !LABEL_NAME_RE.test(value)) return `must be empty or ${LABEL_NAME_RULE.replace(/^must /, '')}`;
  return undefined;
}

// ---------------------------------------------------------------------------
// The schema: the one definition of the file format.

type Custom = { message: string; hint?: string };

/** A string rule as a zod check; the problem's hint travels in the issue's params. */
function stringRule(problem: (value: string) => Custom | undefined) {
  return z.string().check((ctx) => {
    const found = problem(ctx.value);
    if (found) ctx.issues.push({ code: 'custom', input: ctx.value, message: found.message, params: { hint: found.hint } });
  });
}

const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const NAME_HINT = 'names are DNS-1123 labels: lower case letters, digits and "-", like "lab" or "worker-a"';

const apiVersionSchema = z.literal(CONFIG_API_VERSION).meta({ description: 'Version of the config format.' });
const kindSchema = z.literal(CONFIG_KIND);

const clusterNameSchema = stringRule((v) => {
  const problem = dns1123LabelProblem(v);
  if (problem) return { message: problem, hint: NAME_HINT };
  if (v.length > MAX_CLUSTER_NAME_LENGTH) {
    return {
      message: `must be no more than ${MAX_CLUSTER_NAME_LENGTH} characters (has ${v.length})`,
      hint: 'the cluster name prefixes the names of its containers, networks and volumes',
    };
  }
  return undefined;
}).meta({
  description: 'Cluster name: a DNS-1123 label; prefixes container, network and volume names.',
  pattern: DNS1123_LABEL_PATTERN,
  maxLength: MAX_CLUSTER_NAME_LENGTH,
});

const nodeNameSchema = stringRule((v) => {
  const problem = dns1123LabelProblem(v);
  return problem ? { message: problem, hint: NAME_HINT } : undefined;
}).meta({
  description:
    'Node name and hostname: a DNS-1123 label, unique in the cluster. Default from the role: leader, manager2…, worker1….',
  pattern: DNS1123_LABEL_PATTERN,
  maxLength: 63,
});

const engineSchema = z.enum(['swarm', 'kube']).meta({
  description: 'swarm: Docker Swarm; kube: the bundled Kubernetes-API control plane.',
});
const roleSchema = z.enum(['manager', 'worker']).meta({
  description: 'Managers run the orchestrator (swarm managers / the kube control plane); workers run workloads.',
});
const LABEL_KEY_HINT = 'a label key is a name like "zone", optionally after a DNS subdomain and "/", like "example.com/zone"';

const labelsSchema = z
  .record(
    stringRule((k) => {
      const problem = labelKeyProblem(k);
      return problem ? { message: `invalid label key ${JSON.stringify(k)}: ${problem}`, hint: LABEL_KEY_HINT } : undefined;
    }).meta({ pattern: LABEL_KEY_PATTERN }),
    stringRule((v) => {
      const problem = labelValueProblem(v);
      if (!problem) return undefined;
      return { message: `invalid label value ${JSON.stringify(v)}: ${problem}`, hint: 'like "a", "front-end" or ""' };
    }).meta({ pattern: LABEL_VALUE_PATTERN, maxLength: 63 }),
  )
  .meta({ description: 'Orchestrator node labels (Kubernetes label rules).' });

const cpusSchema = z
  .union([z.number().meta({ exclusiveMinimum: 0 }), z.string().meta({ pattern: CPU_PATTERN })], {
    error: (iss) => `expected a number, got ${describeValue(iss.input)}`,
  })
  .transform((value, ctx) => {
    try {
      return parseCpus(value);
    } catch {
      const message =
        typeof value === 'string' && !CPU_STRING_RE.test(value.trim())
          ? `expected a number, got ${describeValue(value)}`
          : `must be greater than 0, got ${JSON.stringify(value)}`;
      ctx.issues.push({ code: 'custom', input: value, message });
      return z.NEVER;
    }
  })
  .meta({ description: 'CPU limit in cores: 1.5, "1.5" or millicores "500m".' });

const memorySchema = z
  .union([z.number().meta({ minimum: MIN_MEMORY_BYTES }), z.string().meta({ pattern: QUANTITY_PATTERN })], {
    error: (iss) => `expected a quantity like "512Mi", got ${describeValue(iss.input)}`,
  })
  .transform((value, ctx) => {
    let bytes: number;
    try {
      bytes = parseQuantityBytes(value);
    } catch (err) {
      const tooLarge = (err as Error).message.endsWith('too large');
      const message = tooLarge ? `${JSON.stringify(value)} is too large` : `invalid quantity ${JSON.stringify(value)}`;
      ctx.issues.push({ code: 'custom', input: value, message });
      return z.NEVER;
    }
    if (bytes < MIN_MEMORY_BYTES) {
      const plain = typeof value === 'number' || /^\d+$/.test(value.trim());
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `must be at least 64Mi, got ${JSON.stringify(value)} (${bytes} bytes)`,
        params: {
          hint: plain
            ? `a plain number is bytes: did you mean "${String(value).trim()}Mi"?`
            : 'a node runs its own dockerd and needs at least 64Mi',
        },
      });
      return z.NEVER;
    }
    return bytes;
  })
  .meta({ description: 'Memory limit: Kubernetes quantity (512Mi, 1Gi, 1G) or docker style (512m, 1g); at least 64Mi.' });

const portRangeError = (iss: { input?: unknown }) => `must be a port number from 1 to 65535, got ${describeValue(iss.input)}`;
const portNumberSchema = z.int().min(1, { error: portRangeError }).max(65535, { error: portRangeError });

const listenAddressSchema = stringRule((v) => {
  if (isIP(v) !== 0) return undefined;
  return { message: `must be an IPv4 or IPv6 address, got ${JSON.stringify(v)}`, hint: 'like 127.0.0.1 (the default), 0.0.0.0 or ::1' };
}).meta({ description: 'Host address to bind.', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] });

const protocolSchema = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['tcp', 'udp']))
  .meta({ pattern: '^([tT][cC][pP]|[uU][dD][pP])$', description: 'tcp or udp, any case.' });

const portSchema = z.strictObject({
  containerPort: portNumberSchema.meta({ description: 'Port inside the node container.' }),
  hostPort: portNumberSchema.meta({ description: 'Port on the host.' }),
  listenAddress: listenAddressSchema.default(DEFAULT_LISTEN_ADDRESS),
  // prefault: a default input (parsed like one), which the input JSON Schema shows as its default.
  protocol: protocolSchema.prefault('tcp'),
});

const nodeSchema = z.strictObject({
  name: nodeNameSchema.optional(),
  role: roleSchema,
  labels: labelsSchema.default(() => ({})),
  cpus: cpusSchema.optional(),
  memory: memorySchema.optional(),
  ports: z
    .array(portSchema)
    .default(() => [])
    .meta({ description: "Host ports published to the node, like kind's extraPortMappings." }),
});

function secondsSchema(min: number, max: number) {
  const rangeError = (iss: { input?: unknown }) => `must be whole seconds from ${min} to ${max}, got ${describeValue(iss.input)}`;
  return z.int({ error: rangeError }).min(min, { error: rangeError }).max(max, { error: rangeError });
}

const kubeSettingsSchema = z
  .strictObject({
    nodeMonitorGracePeriodSeconds: secondsSchema(1, 3600).optional().meta({
      description: `Seconds without a heartbeat before a node turns NotReady (Kubernetes: ${KUBE_DEFAULT_SETTINGS.nodeMonitorGracePeriodSeconds}).`,
    }),
    defaultTolerationSeconds: secondsSchema(0, 86_400).optional().meta({
      description: `Seconds pods stay on a NotReady node before they are evicted (Kubernetes: ${KUBE_DEFAULT_SETTINGS.defaultTolerationSeconds}).`,
    }),
  })
  .meta({ description: 'engine kube only: node-failure timings, shortened for labs.' });

const configSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: kindSchema,
  name: clusterNameSchema.default(DEFAULT_CLUSTER_NAME),
  engine: engineSchema.default('swarm'),
  kube: kubeSettingsSchema.optional(),
  nodes: z.array(nodeSchema).optional().meta({
    description:
      `Default: ${DEFAULT_MANAGER_COUNT} manager and ${DEFAULT_NODE_COUNT - DEFAULT_MANAGER_COUNT} workers. ` +
      'At least one manager.',
  }),
});

type ParsedConfig = z.output<typeof configSchema>;
type ParsedNode = z.output<typeof nodeSchema>;

/** JSON Schema of the config file, generated from the zod schema (what the file may contain). */
export function clusterConfigJsonSchema(): object {
  const { $schema, ...rest } = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    $id: 'https://clusterlab.dev/schema/cluster.schema.json',
    title: `clusterlab cluster config (${CONFIG_API_VERSION})`,
    description:
      'Generated from src/cluster/config.ts; regenerate with ' +
      'UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/config-schema.test.ts',
    ...rest,
  };
}

// ---------------------------------------------------------------------------
// Issues → problems

/** Path with list indexes and label keys generalised: `nodes[].labels.*`, the key of FIELD_HINTS. */
function pathPattern(segments: readonly Segment[]): string {
  const parts: string[] = [];
  segments.forEach((seg, i) => {
    if (typeof seg === 'number') parts.push('[]');
    else parts.push(`${parts.length ? '.' : ''}${segments[i - 1] === 'labels' ? '*' : seg}`);
  });
  return parts.join('');
}

const FIELD_HINTS: Record<string, string> = {
  apiVersion: `this clusterlab reads "apiVersion: ${CONFIG_API_VERSION}"`,
  kind: `add "kind: ${CONFIG_KIND}"`,
  name: NAME_HINT,
  engine: 'swarm (Docker Swarm) or kube (the bundled Kubernetes-API control plane)',
  nodes: 'a list of nodes, each like "- role: worker"; leave it out for 1 manager and 2 workers',
  kube: 'a mapping like {nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20}, with engine: kube',
  'kube.nodeMonitorGracePeriodSeconds': 'whole seconds from 1 to 3600, like 10',
  'kube.defaultTolerationSeconds': 'whole seconds from 0 to 86400, like 20',
  'nodes[]': 'each node is a mapping with at least a role, like "- role: worker"',
  'nodes[].name': NAME_HINT,
  'nodes[].role': 'manager or worker',
  'nodes[].labels': 'a mapping of label keys to string values, like {zone: a}',
  'nodes[].labels.*': 'label values are strings: quote numbers and booleans, like zone: "1"',
  'nodes[].cpus': 'cores like 1.5, or a string: "1.5", or millicores like "500m"',
  'nodes[].memory': 'like 512Mi, 1Gi, 1.5G (Kubernetes) or 512m, 1g (docker); a plain number is bytes',
  'nodes[].ports': 'a list of mappings with containerPort and hostPort, like kind\'s extraPortMappings',
  'nodes[].ports[]': 'a mapping like {containerPort: 80, hostPort: 8080}',
  'nodes[].ports[].containerPort': 'a whole number from 1 to 65535, without quotes',
  'nodes[].ports[].hostPort': 'a whole number from 1 to 65535, without quotes',
  'nodes[].ports[].protocol': 'tcp or udp',
};

/** The config's field hints, and its schema's own words for unions and ranges. */
const CONFIG_RULES: IssueRules = { schema: configSchema, hintAt: (segments) => FIELD_HINTS[pathPattern(segments)], ownMessages: true };

// ---------------------------------------------------------------------------
// Cross-field rules, on what parses of each node (so they are reported beside
// the field problems, all at once).

function crossFieldProblems(raw: Record<string, unknown>): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  if (raw['kube'] !== undefined && raw['engine'] !== 'kube') {
    problems.push({
      path: 'kube',
      segments: ['kube'],
      message: `applies to the kube engine only, and this cluster's engine is ${typeof raw['engine'] === 'string' ? raw['engine'] : 'swarm'}`,
      hint: 'add "engine: kube", or remove the kube section',
    });
  }
  const nodes = raw['nodes'];
  if (!Array.isArray(nodes)) return problems;
  const fields = nodes.map((n) =>
    n !== null && typeof n === 'object' && !Array.isArray(n) ? (n as Record<string, unknown>) : undefined,
  );

  const roles = fields.map((n) => roleSchema.safeParse(n?.['role']).data);
  if (roles.every((r) => r !== undefined) && !roles.includes('manager')) {
    problems.push({
      path: 'nodes',
      segments: ['nodes'],
      message: `needs at least one node with role "manager"${nodes.length === 0 ? ', got an empty list' : ''}`,
      hint:
        'swarm is initialised on a manager and kube runs its control plane there; ' +
        'leave nodes out for 1 manager and 2 workers',
    });
  }

  const ordinals: Record<NodeRole, number> = { manager: 0, worker: 0 };
  const owners = new Map<string, { index: number; explicit: boolean }>();
  fields.forEach((n, index) => {
    const role = roles[index];
    if (role) ordinals[role] += 1;
    const explicit = n?.['name'] !== undefined;
    const name = explicit ? nodeNameSchema.safeParse(n?.['name']).data : role ? defaultNodeName(role, ordinals[role]) : undefined;
    if (name === undefined) return;
    const first = owners.get(name);
    if (!first) {
      owners.set(name, { index, explicit });
      return;
    }
    const segments: Segment[] = explicit ? ['nodes', index, 'name'] : ['nodes', index];
    problems.push({
      path: formatPath(segments),
      segments,
      message:
        `duplicate node name ${JSON.stringify(name)}, ` +
        `also ${first.explicit ? 'the name of' : 'given by default to'} nodes[${first.index}]`,
      hint:
        'node names must be unique; a node without a name is named after its role and place: ' +
        'leader, manager2…, worker1, worker2…',
    });
  });

  const published: Array<Binding & { where: string }> = [];
  fields.forEach((n, index) => {
    const ports = n?.['ports'];
    if (!Array.isArray(ports)) return;
    ports.forEach((p, j) => {
      const mapping = portSchema.safeParse(p).data;
      if (!mapping) return;
      const binding = bindingOf(mapping);
      const other = published.find((b) => clashes(b, binding));
      if (other) {
        const segments: Segment[] = ['nodes', index, 'ports', j, 'hostPort'];
        problems.push({
          path: formatPath(segments),
          segments,
          message:
            `host port ${mapping.hostPort}/${mapping.protocol} on ${mapping.listenAddress} ` +
            (other.address === binding.address
              ? `is already published by ${other.where}`
              : `overlaps ${other.where}, which publishes it on ${other.listenAddress}`),
          hint: 'a listenAddress, hostPort and protocol can be published once in the whole cluster; pick another hostPort',
        });
        return;
      }
      published.push({ ...binding, where: `nodes[${index}].ports[${j}]` });
    });
  });
  return problems;
}

interface Binding {
  /** As written in the config. */
  listenAddress: string;
  /** Canonical form, for comparing. */
  address: string;
  family: number;
  hostPort: number;
  protocol: string;
}

function bindingOf(p: PortMapping): Binding {
  const family = isIP(p.listenAddress);
  // Compare IPv6 addresses in their canonical form: "::1" and "0:0:0:0:0:0:0:1" are one address.
  let address = p.listenAddress.toLowerCase();
  if (family === 6) {
    try {
      address = new URL(`http://[${address}]`).hostname.slice(1, -1);
    } catch {
      // A zone id (fe80::1%eth0) is not a URL host; compare it as written.
    }
  }
  return { listenAddress: p.listenAddress, address, family, hostPort: p.hostPort, protocol: p.protocol };
}

/** Same port and protocol on the same address, or on the wildcard (0.0.0.0, ::) of the same family. */
function clashes(a: Binding, b: Binding): boolean {
  if (a.hostPort !== b.hostPort || a.protocol !== b.protocol) return false;
  if (a.address === b.address) return true;
  const wildcard = (x: Binding) => x.address === '0.0.0.0' || x.address === '::';
  return a.family === b.family && (wildcard(a) || wildcard(b));
}

// ---------------------------------------------------------------------------
// Positions in the YAML file

/** Where a path is in the file: its value, or its key (unknown and missing fields), or the nearest parent. */
export function locate(
  doc: Document,
  lines: LineCounter,
  segments: readonly Segment[],
  atKey: boolean,
): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as { range?: [number, number, number] } | null)?.range?.[0];
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(seg));
      if (!pair) break;
      const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      const value = pair.value as { range?: [number, number, number] } | null;
      if (last && (atKey || !value?.range)) {
        offset = keyOffset ?? offset;
        break;
      }
      node = pair.value;
      offset = value?.range?.[0] ?? keyOffset ?? offset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

// ---------------------------------------------------------------------------
// Loading

/**
 * YAML text as a document (for positions) and its plain value, or its syntax problems with
 * line and column. Strict: duplicate keys are errors, aliases are bounded.
 */
export function readYaml(text: string): { doc: Document; lines: LineCounter; raw: unknown } | { problems: ConfigProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((err) => {
        const pos = lines.linePos(err.pos[0]);
        return { path: '', message: `invalid YAML: ${err.message}`, line: pos.line, column: pos.col };
      }),
    };
  }
  try {
    return { doc, lines, raw: doc.toJS({ maxAliasCount: 100 }) };
  } catch (err) {
    return { problems: [{ path: '', message: `invalid YAML: ${(err as Error).message}` }] };
  }
}

/** Parses and validates a config; `source` names it in messages (usually the file path). */
export function parseClusterConfig(text: string, source: string): ClusterSpec {
  const read = readYaml(text);
  if ('problems' in read) throw new ConfigError(source, read.problems);
  const { doc, lines, raw } = read;
  if (raw === null || raw === undefined) {
    throw new ConfigError(source, [
      {
        path: '',
        message: 'the file is empty',
        hint: `a cluster config starts with "apiVersion: ${CONFIG_API_VERSION}" and "kind: ${CONFIG_KIND}"`,
      },
    ]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [
      {
        path: '',
        message: `expected a mapping with apiVersion and kind at the top, got ${describeValue(raw)}`,
        line: 1,
        column: 1,
      },
    ]);
  }
  const fields = raw as Record<string, unknown>;
  const place = ({ segments, atKey, ...problem }: LocatedProblem): ConfigProblem => {
    const out: ConfigProblem = { path: problem.path, message: problem.message };
    if (problem.hint !== undefined) out.hint = problem.hint;
    const at = locate(doc, lines, segments, atKey ?? false);
    if (at) Object.assign(out, at);
    return out;
  };

  // apiVersion first: under a version we do not know, no other field means anything.
  const apiVersion = fields['apiVersion'];
  if (apiVersion !== CONFIG_API_VERSION) {
    const shown = typeof apiVersion === 'string' ? JSON.stringify(apiVersion) : describeValue(apiVersion);
    const misspelt = apiVersion === undefined ? Object.keys(fields).find((k) => didYouMean(k, ['apiVersion'])) : undefined;
    const problems: ConfigProblem[] = [
      place({
        path: 'apiVersion',
        segments: ['apiVersion'],
        atKey: apiVersion === undefined,
        message:
          apiVersion === undefined
            ? 'missing required field "apiVersion"'
            : `unsupported apiVersion ${shown}: the supported version is "${CONFIG_API_VERSION}"`,
        hint:
          (misspelt ? `found ${JSON.stringify(misspelt)}: field names are case-sensitive; ` : '') +
          `start the file with "apiVersion: ${CONFIG_API_VERSION}" and "kind: ${CONFIG_KIND}"`,
      }),
    ];
    const kind = kindSchema.safeParse(fields['kind'], { reportInput: true });
    if (!kind.success) problems.push(...kind.error.issues.flatMap((i) => problemsFromIssue(i, CONFIG_RULES, ['kind'])).map(place));
    throw new ConfigError(source, problems);
  }

  const result = configSchema.safeParse(raw, { reportInput: true });
  const located = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => problemsFromIssue(i, CONFIG_RULES))),
    ...crossFieldProblems(fields),
  ].map(place);
  if (!result.success || located.length > 0) {
    const sorted = located
      .map((p, i) => ({ p, i }))
      .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
      .map(({ p }) => p);
    throw new ConfigError(source, sorted);
  }
  return toClusterSpec(result.data);
}

/** The validated config with defaults applied. */
function toClusterSpec(config: ParsedConfig): ClusterSpec {
  const spec = nodesOf(config);
  if (config.kube) spec.kube = { ...KUBE_DEFAULT_SETTINGS, ...config.kube };
  return spec;
}

function nodesOf(config: ParsedConfig): ClusterSpec {
  if (!config.nodes) return specFromFlags(config.name, config.engine, DEFAULT_NODE_COUNT, DEFAULT_MANAGER_COUNT);
  const ordinals: Record<NodeRole, number> = { manager: 0, worker: 0 };
  const nodes = config.nodes.map((node: ParsedNode): NodeSpec => {
    ordinals[node.role] += 1;
    const spec: NodeSpec = {
      name: node.name ?? defaultNodeName(node.role, ordinals[node.role]),
      role: node.role,
      labels: { ...node.labels },
      ports: node.ports.map((p) => ({ ...p })),
    };
    if (node.cpus !== undefined) spec.cpus = node.cpus;
    if (node.memory !== undefined) spec.memoryBytes = node.memory;
    return spec;
  });
  return { name: config.name, engine: config.engine, nodes };
}

/** Reads and parses a config file. */
export async function loadClusterConfig(path: string): Promise<ClusterSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? (err as Error).message})`;
    throw new UserError(`cluster config ${path} ${why}`, {
      hint: 'give the path of a cluster config YAML file, or leave the config out for the default cluster (1 manager, 2 workers)',
      cause: err,
    });
  }
  return parseClusterConfig(text, path);
}
