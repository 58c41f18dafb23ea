/**
 * The lab file format (labs/<name>/lab.yaml): versioned, strict, one zod schema that
 * validates, types the result and generates schema/lab.schema.json (kept in sync by
 * test/unit/labs-schema.test.ts). Rules that span fields are in validate.ts.
 *
 * ```yaml
 * apiVersion: clusterlab.dev/v1alpha1
 * kind: Lab
 * name: scaling                  # optional; the folder's name
 * title: {en: Scaling, it: Scalare, es: Escalar}
 * description: {en: …}           # markdown; or {swarm: {en: …}, kube: {en: …}}
 * engines: [swarm, kube]
 * cluster: {nodes: 3, managers: 1, kube: {nodeMonitorGracePeriodSeconds: 10, defaultTolerationSeconds: 20}}
 * images: [clusterlab/web:v1]    # loaded into every node at start
 * setup: {swarm: "docker …", kube: "kubectl …"}   # bash, run on the host against the cluster
 * steps:
 *   - id: scale-up
 *     title: {en: Scale up}
 *     text: {swarm: {en: "Run `docker service scale web=6`…"}, kube: {en: …}}
 *     hints: [{en: …}]
 *     solution: {swarm: "docker service scale web=6", kube: "kubectl scale deployment/web --replicas=6"}
 *     checks:
 *       - replicas: {workload: web, running: 6}
 *       - spread: {workload: web, minNodes: 3}
 *     timeoutSeconds: 90
 *     points: 2
 * cleanup: {swarm: "docker service rm web", kube: "kubectl delete deployment web"}
 * ```
 */
import * as z from 'zod';
import { COMPARE_EVENTS } from '../compare/events.js';
import { CHECK_KINDS, CHECK_KIND_NAMES } from './checks/index.js';
import { LAB_ENGINES } from './engines.js';

export const LAB_API_VERSION = 'clusterlab.dev/v1alpha1';
export const LAB_KIND = 'Lab';

const LANGUAGE_PATTERN = '^[a-z]{2,3}(-[A-Z]{2,4})?$';
const LANGUAGE_RE = new RegExp(LANGUAGE_PATTERN);
const ID_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const ID_RE = new RegExp(ID_PATTERN);

export const engineSchema = z.enum(LAB_ENGINES).meta({ description: 'swarm: Docker Swarm; kube: the Kubernetes API.' });

const languageKey = z
  .string()
  .check((ctx) => {
    if (!LANGUAGE_RE.test(ctx.value)) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `${JSON.stringify(ctx.value)} is not a language code`,
        params: { hint: 'language codes are like en, it, es or pt-BR; for one text per engine use swarm: and kube:' },
      });
    }
  })
  .meta({ pattern: LANGUAGE_PATTERN });

/** English, or English with translations. */
export const localizedSchema = z
  .union([
    z.string().meta({ description: 'English text.' }),
    z
      .record(languageKey, z.string())
      .check((ctx) => {
        if (typeof ctx.value['en'] !== 'string') {
          ctx.issues.push({
            code: 'custom',
            input: ctx.value,
            message: 'missing the English text "en"',
            params: { hint: 'every text needs English; other languages are optional, like {en: Scaling, it: Scalare}' },
          });
        }
      })
      .meta({ description: 'Text by language code; "en" is required.', required: ['en'] }),
  ])
  .meta({ description: 'Text: a string (English), or {en: …, it: …, es: …}.' });

/** A text that is the same for every engine, or one per engine. */
export const textSchema = z
  .union([
    localizedSchema,
    z
      .strictObject({ swarm: localizedSchema.optional(), kube: localizedSchema.optional() })
      .meta({ description: 'One text per engine.' }),
  ])
  .meta({ description: 'Markdown text (localized), or {swarm: …, kube: …} when the engines need different words.' });

/** A bash script, the same for every engine, or one per engine. */
export const scriptSchema = z
  .union([
    z.string().meta({ description: 'bash script for every engine.' }),
    z.strictObject({ swarm: z.string().optional(), kube: z.string().optional() }).meta({ description: 'One bash script per engine.' }),
  ])
  .meta({ description: 'bash, run on the host with docker / kubectl / clusterlab pointed at the cluster, in the lab folder.' });

function checkItemShape() {
  const kinds = Object.fromEntries(
    CHECK_KIND_NAMES.map((name) => [name, CHECK_KINDS[name].params.optional().meta({ description: CHECK_KINDS[name].summary })]),
  ) as { [K in keyof typeof CHECK_KINDS]: z.ZodOptional<(typeof CHECK_KINDS)[K]['params']> };
  return {
    engines: z.array(engineSchema).min(1).optional().meta({ description: 'Only on these engines (default: every engine of the lab).' }),
    transient: z.boolean().default(false).meta({
      description:
        'The state holds only while its step is current (a node is down): the runner checks it, the grader skips it.',
    }),
    ...kinds,
  };
}

export const checkSchema = z
  .strictObject(checkItemShape())
  .check((ctx) => {
    const present = CHECK_KIND_NAMES.filter((k) => ctx.value[k] !== undefined);
    if (present.length === 1) return;
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      message: present.length === 0 ? 'a check needs one kind' : `a check has one kind, found ${present.join(' and ')}`,
      params: { hint: `kinds: ${CHECK_KIND_NAMES.join(', ')}; write each check as its own list item` },
    });
  })
  .meta({ description: `One check: exactly one of ${CHECK_KIND_NAMES.join(', ')}, with its parameters.` });

const idSchema = z
  .string()
  .check((ctx) => {
    if (!ID_RE.test(ctx.value) || ctx.value.length > 63) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value,
        message: `${JSON.stringify(ctx.value)} is not a valid id`,
        params: { hint: 'ids are lower case letters, digits and "-", like "scale-up"' },
      });
    }
  })
  .meta({ pattern: ID_PATTERN, maxLength: 63 });

export const stepSchema = z.strictObject({
  id: idSchema.meta({ description: 'Step id, unique in the lab: `lab check --step ID`, progress files.' }),
  title: localizedSchema,
  text: textSchema,
  hints: z.array(textSchema).default(() => []).meta({ description: 'Shown one at a time by `lab hint`.' }),
  solution: scriptSchema.optional().meta({ description: 'The reference solution: `lab solve` runs it; the self-tests run every one.' }),
  checks: z.array(checkSchema).min(1).meta({ description: 'All must pass (and hold for the confirmation window) for the step to pass.' }),
  timeoutSeconds: z.number().positive().max(1800).default(60).meta({ description: 'How long `lab check` and the grader poll.' }),
  confirmSeconds: z.number().min(0).max(120).optional().meta({ description: "How long a pass must hold (default: the lab's)." }),
  points: z.int().min(0).max(1000).default(1).meta({ description: 'Score of the step in `grade`.' }),
  measures: z
    .enum(COMPARE_EVENTS)
    .optional()
    .meta({
      description:
        "The event this step puts the app through (as in `clusterlab compare`): when it passes, the time from the probe's reset to the pass and the probe's figures are kept, and a lab done on both engines ends in a side-by-side report.",
    }),
});

const secondsSchema = (min: number, max: number) => z.int().min(min).max(max);

export const clusterShapeSchema = z
  .strictObject({
    nodes: z.int().min(1).max(20).default(3).meta({ description: 'Nodes of the cluster `lab start` creates.' }),
    managers: z.int().min(1).max(7).default(1).meta({ description: 'Swarm managers / kube control planes (1 or 3).' }),
    kube: z
      .strictObject({
        nodeMonitorGracePeriodSeconds: secondsSchema(1, 3600).optional(),
        defaultTolerationSeconds: secondsSchema(0, 86_400).optional(),
      })
      .optional()
      .meta({ description: 'Node-failure timings for kube clusters the lab creates (see the cluster config).' }),
  })
  .meta({ description: 'The cluster the lab needs; `lab start` creates it like this when it does not exist.' });

export const labSchema = z.strictObject({
  apiVersion: z.literal(LAB_API_VERSION).meta({ description: 'Version of the lab format.' }),
  kind: z.literal(LAB_KIND),
  name: idSchema.optional().meta({ description: "The lab's name; defaults to its folder's name, which it must equal." }),
  title: localizedSchema,
  description: textSchema,
  engines: z.array(engineSchema).min(1).meta({ description: 'Engines the lab runs on; the first is the default.' }),
  cluster: clusterShapeSchema.prefault({}),
  images: z
    .array(z.string().min(1))
    .default(() => [])
    .meta({ description: 'Images `lab start` loads into every node (there is no registry), like clusterlab/web:v1.' }),
  setup: scriptSchema.optional().meta({ description: 'Run by `lab start` and `lab reset`, after cleanup.' }),
  steps: z.array(stepSchema).min(1),
  cleanup: scriptSchema.optional().meta({ description: 'Undoes what the lab made: run by `lab reset` before setup.' }),
  confirmSeconds: z.number().min(0).max(120).default(3).meta({ description: 'How long a passing step must hold (default 3 s).' }),
  intervalSeconds: z.number().min(0.1).max(30).default(1).meta({ description: 'Time between check rounds (default 1 s).' }),
});

export type LabDoc = z.output<typeof labSchema>;
export type LabStepDoc = z.output<typeof stepSchema>;
export type LabCheckDoc = z.output<typeof checkSchema>;
export type LabScript = z.output<typeof scriptSchema>;

/** JSON Schema of lab.yaml, generated from the zod schema. */
export function labJsonSchema(): object {
  const { $schema, ...rest } = z.toJSONSchema(labSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
  return {
    $schema,
    $id: 'https://clusterlab.dev/schema/lab.schema.json',
    title: `clusterlab lab (${LAB_API_VERSION})`,
    description:
      'Generated from src/labs/schema.ts; regenerate with UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/labs-schema.test.ts',
    ...rest,
  };
}
