/**
 * Deployments, ReplicaSets, DaemonSets (pkg/apis/apps/validation), Jobs and CronJobs
 * (pkg/apis/batch/validation), with the update rules their strategies add: apps/v1 selectors
 * are immutable, a Job's template is fixed once created.
 */
import { isJsonObject, jsonEqual, type JsonObject } from './json-value.js';
import { asObject, getPath, stringMapOf, stringOf } from './pod-spec.js';
import { FieldErrors, child, goIntOrString, goLabelSelector, goStringMap } from './validation-errors.js';
import { validatePodTemplate } from './validation-pod.js';
import {
  FIELD_IMMUTABLE,
  IS_NEGATIVE_ERROR,
  isQualifiedName,
  isValidLabelValue,
  isValidPercent,
  maxLenError,
  selectorIsEmpty,
  selectorMatches,
  validateLabelSelector,
  validateNonNegative,
} from './validation-rules.js';

type SpecValidator = (errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined) => void;

const WORKLOADS: Record<string, SpecValidator> = {
  Deployment: validateDeployment,
  ReplicaSet: validateReplicaSet,
  DaemonSet: validateDaemonSet,
  Job: validateJob,
  CronJob: validateCronJob,
};

/** The kind-specific part of a workload's validation (metadata is checked by the caller). */
export function validateWorkload(errors: FieldErrors, kind: string, obj: JsonObject, old?: JsonObject): void {
  WORKLOADS[kind]?.(errors, obj, old);
}

// ---------------------------------------------------------------------------------------------
// apps/v1
// ---------------------------------------------------------------------------------------------

function validateDeployment(errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  validateNonNegative(errors, spec.replicas, 'spec.replicas');
  validateReplicatedTemplate(errors, spec, 'ReplicaSet');
  validateDeploymentStrategy(errors, spec.strategy);
  validateNonNegative(errors, spec.minReadySeconds, 'spec.minReadySeconds');
  validateNonNegative(errors, spec.revisionHistoryLimit, 'spec.revisionHistoryLimit');
  if (typeof spec.progressDeadlineSeconds === 'number') {
    validateNonNegative(errors, spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds');
    const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
    if (spec.progressDeadlineSeconds <= minReady) {
      errors.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds');
    }
  }
  if (old) validateSelectorUnchanged(errors, spec, old);
}

function validateReplicaSet(errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  validateNonNegative(errors, spec.replicas, 'spec.replicas');
  validateNonNegative(errors, spec.minReadySeconds, 'spec.minReadySeconds');
  validateReplicatedTemplate(errors, spec, 'ReplicaSet');
  if (old) validateSelectorUnchanged(errors, spec, old);
}

/** Selector and template of a Deployment or ReplicaSet (ValidatePodTemplateSpecForReplicaSet). */
function validateReplicatedTemplate(errors: FieldErrors, spec: JsonObject, owner: string): void {
  const selector = spec.selector;
  if (selector === undefined || selector === null) {
    errors.required('spec.selector');
  } else {
    validateLabelSelector(errors, selector, 'spec.selector');
    // Kubernetes says "deployment" here for ReplicaSets too.
    if (selectorIsEmpty(selector)) errors.invalid('spec.selector', goLabelSelector(selector), 'empty selector is invalid for deployment');
  }
  if (!selectorConvertible(selector)) {
    errors.invalid('spec.selector', goLabelSelector(selector), 'invalid label selector');
    return;
  }
  const template = spec.template;
  checkSelectorMatchesTemplate(errors, selector, template);
  validatePodTemplate(errors, template, 'spec.template');
  validateAlwaysRestarts(errors, template, owner);
}

function validateDaemonSet(errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  const selector = spec.selector;
  validateLabelSelector(errors, selector, 'spec.selector');
  if (selectorConvertible(selector)) checkSelectorMatchesTemplate(errors, selector, spec.template);
  if (isJsonObject(selector) && selectorIsEmpty(selector)) {
    errors.invalid('spec.selector', goLabelSelector(selector), 'empty selector is invalid for daemonset');
  }
  validatePodTemplate(errors, spec.template, 'spec.template');
  validateAlwaysRestarts(errors, spec.template, 'DaemonSet');
  validateNonNegative(errors, spec.minReadySeconds, 'spec.minReadySeconds');
  validateDaemonSetStrategy(errors, spec.updateStrategy);
  validateNonNegative(errors, spec.revisionHistoryLimit, 'spec.revisionHistoryLimit');
  if (old) validateSelectorUnchanged(errors, spec, old);
}

/** An absent selector selects nothing, an empty one everything; otherwise labels must match. */
function checkSelectorMatchesTemplate(errors: FieldErrors, selector: unknown, template: unknown): void {
  if (isJsonObject(selector) && selectorIsEmpty(selector)) return;
  const labels = getPath(template, ['metadata', 'labels']);
  if (!selectorMatches(selector, stringMapOf(labels) ?? {})) {
    errors.invalid('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`');
  }
}

/** Pods of a controller that keeps them running must restart, and have no deadline. */
function validateAlwaysRestarts(errors: FieldErrors, template: unknown, owner: string): void {
  const podSpec = asObject(getPath(template, ['spec']));
  if (!podSpec) return;
  if (podSpec.restartPolicy !== 'Always') errors.notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy ?? '', ['Always']);
  if (podSpec.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errors.forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${owner} is not Supported`);
  }
}

/** apps/v1 strategies refuse selector changes (the extensions/v1beta1 leniency is gone). */
function validateSelectorUnchanged(errors: FieldErrors, spec: JsonObject, old: JsonObject): void {
  const oldSelector = getPath(old, ['spec', 'selector']);
  if (!jsonEqual(spec.selector, oldSelector)) errors.invalid('spec.selector', goLabelSelector(spec.selector), FIELD_IMMUTABLE);
}

function validateDeploymentStrategy(errors: FieldErrors, strategyValue: unknown): void {
  const strategy = asObject(strategyValue) ?? {};
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errors.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'");
      }
      return;
    case 'RollingUpdate': {
      const rollingUpdate = asObject(strategy.rollingUpdate);
      if (!rollingUpdate) {
        errors.required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil');
        return;
      }
      const path = 'spec.strategy.rollingUpdate';
      validatePositiveIntOrPercent(errors, rollingUpdate.maxUnavailable, child(path, 'maxUnavailable'));
      validatePositiveIntOrPercent(errors, rollingUpdate.maxSurge, child(path, 'maxSurge'));
      if (intOrPercentValue(rollingUpdate.maxUnavailable) === 0 && intOrPercentValue(rollingUpdate.maxSurge) === 0) {
        errors.invalid(child(path, 'maxUnavailable'), goIntOrString(rollingUpdate.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0');
      }
      notMoreThan100Percent(errors, rollingUpdate.maxUnavailable, child(path, 'maxUnavailable'));
      return;
    }
    default:
      errors.notSupported('spec.strategy', strategy, ['Recreate', 'RollingUpdate']);
  }
}

function validateDaemonSetStrategy(errors: FieldErrors, strategyValue: unknown): void {
  const strategy = asObject(strategyValue) ?? {};
  switch (strategy.type) {
    case 'OnDelete':
      return;
    case 'RollingUpdate': {
      const rollingUpdate = asObject(strategy.rollingUpdate);
      const path = 'spec.updateStrategy.rollingUpdate';
      if (!rollingUpdate) {
        errors.required(path);
        return;
      }
      validatePositiveIntOrPercent(errors, rollingUpdate.maxUnavailable, child(path, 'maxUnavailable'));
      validatePositiveIntOrPercent(errors, rollingUpdate.maxSurge, child(path, 'maxSurge'));
      notMoreThan100Percent(errors, rollingUpdate.maxUnavailable, child(path, 'maxUnavailable'));
      notMoreThan100Percent(errors, rollingUpdate.maxSurge, child(path, 'maxSurge'));
      const hasUnavailable = intOrPercentValue(rollingUpdate.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(rollingUpdate.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) {
        errors.invalid(child(path, 'maxSurge'), goIntOrString(rollingUpdate.maxSurge), 'may not be set when maxUnavailable is non-zero');
      } else if (!hasUnavailable && !hasSurge) {
        errors.required(child(path, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0');
      }
      return;
    }
    default:
      errors.notSupported('spec.updateStrategy', strategy, ['RollingUpdate', 'OnDelete']);
  }
}

/** ValidatePositiveIntOrPercent (also used by PodDisruptionBudgets). */
export function validatePositiveIntOrPercent(errors: FieldErrors, value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (typeof value === 'string') {
    for (const msg of isValidPercent(value)) errors.invalid(path, goIntOrString(value), msg);
  } else if (typeof value === 'number' && Number.isInteger(value)) {
    if (value < 0) errors.invalid(path, value, IS_NEGATIVE_ERROR);
  } else {
    // Kubernetes' message really has a doubled percent sign.
    errors.invalid(path, value, "must be an integer or percentage (e.g '5%%')");
  }
}

export function notMoreThan100Percent(errors: FieldErrors, value: unknown, path: string): void {
  if (typeof value !== 'string' || isValidPercent(value).length > 0) return;
  if (Number(value.slice(0, -1)) > 100) errors.invalid(path, goIntOrString(value), 'must not be greater than 100%');
}

/** getIntOrPercentValue: the number of a percentage or an integer; 0 for anything else. */
function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return 0;
  const text = isValidPercent(value).length === 0 ? value.slice(0, -1) : value;
  return /^[+-]?\d+$/.test(text) ? Number(text) : 0;
}

/** Whether metav1.LabelSelectorAsSelector would accept the selector (absent is fine). */
function selectorConvertible(selector: unknown): boolean {
  if (!isJsonObject(selector)) return true;
  const labels = isJsonObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(labels)) {
    if (isQualifiedName(k).length > 0 || typeof v !== 'string' || isValidLabelValue(v).length > 0) return false;
  }
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  return expressions.every((expr) => {
    if (!isJsonObject(expr) || isQualifiedName(stringOf(expr.key)).length > 0) return false;
    const values = Array.isArray(expr.values) ? expr.values : [];
    if (values.some((v) => typeof v !== 'string' || isValidLabelValue(v).length > 0)) return false;
    if (expr.operator === 'In' || expr.operator === 'NotIn') return values.length > 0;
    if (expr.operator === 'Exists' || expr.operator === 'DoesNotExist') return values.length === 0;
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// batch/v1
// ---------------------------------------------------------------------------------------------

/** The labels the API server (here: the job controller) adds to a Job's template. */
const GENERATED_JOB_LABELS = ['batch.kubernetes.io/controller-uid', 'controller-uid', 'batch.kubernetes.io/job-name', 'job-name'];
/** What a suspended Job that never started may still change in its template. */
const MUTABLE_SCHEDULING_DIRECTIVES = ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates'];

function validateJob(errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined): void {
  const spec = asObject(obj.spec) ?? {};
  validateJobSpec(errors, spec, 'spec');
  if (spec.manualSelector === true && (spec.selector === undefined || spec.selector === null)) errors.required('spec.selector');
  if (old) validateJobUpdate(errors, spec, asObject(old.spec) ?? {}, old);
}

/** validateJobSpec: shared by Jobs and CronJob job templates. */
function validateJobSpec(errors: FieldErrors, spec: JsonObject, path: string): void {
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) {
    validateNonNegative(errors, spec[field], child(path, field));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errors.notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']);
    if (mode === 'Indexed' && (spec.completions === undefined || spec.completions === null)) {
      errors.required(child(path, 'completions'), 'when completion mode is Indexed');
    }
  }
  // The selector is generated after create (by the job controller here); check it once present.
  const selector = spec.selector;
  if (selector !== undefined && selector !== null) {
    validateLabelSelector(errors, selector, child(path, 'selector'));
    if (selectorConvertible(selector) && !selectorIsEmpty(selector)) {
      const labels = getPath(spec.template, ['metadata', 'labels']);
      if (!selectorMatches(selector, stringMapOf(labels) ?? {})) {
        errors.invalid(child(path, 'template', 'metadata', 'labels'), goStringMap(labels), '`selector` does not match template `labels`');
      }
    }
  }
  validatePodTemplate(errors, spec.template, child(path, 'template'));
  const restartPolicy = getPath(spec.template, ['spec', 'restartPolicy']);
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errors.notSupported(child(path, 'template', 'spec', 'restartPolicy'), restartPolicy ?? '', ['OnFailure', 'Never']);
  }
}

function validateJobUpdate(errors: FieldErrors, spec: JsonObject, oldSpec: JsonObject, old: JsonObject): void {
  const selectorGenerated = (oldSpec.selector === undefined || oldSpec.selector === null) && oldSpec.manualSelector !== true;
  if (!selectorGenerated && !jsonEqual(spec.selector, oldSpec.selector)) errors.invalid('spec.selector', goLabelSelector(spec.selector), FIELD_IMMUTABLE);
  const indexed = spec.completionMode === 'Indexed';
  if (!jsonEqual(spec.completions, oldSpec.completions)) {
    if (!indexed) errors.invalid('spec.completions', spec.completions ?? null, FIELD_IMMUTABLE);
    else if (typeof spec.completions === 'number' && spec.completions !== spec.parallelism) {
      errors.invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism');
    }
  }
  if (!jsonEqual(spec.completionMode, oldSpec.completionMode)) errors.invalid('spec.completionMode', spec.completionMode ?? null, FIELD_IMMUTABLE);

  // The template is fixed, except for what the API server adds once (the generated selector's
  // labels) and the scheduling directives of a suspended Job that has not started.
  const startedOnce = getPath(old, ['status', 'startTime']) !== undefined;
  const leeway = { dropGeneratedLabels: selectorGenerated, dropSchedulingDirectives: oldSpec.suspend === true && !startedOnce };
  if (!jsonEqual(comparableTemplate(spec.template, leeway), comparableTemplate(oldSpec.template, leeway))) {
    errors.invalid('spec.template', spec.template, FIELD_IMMUTABLE);
  }
}

/** A copy of a Job's template without the parts an update may change. */
function comparableTemplate(template: unknown, leeway: { dropGeneratedLabels: boolean; dropSchedulingDirectives: boolean }): JsonObject {
  const copy: JsonObject = isJsonObject(template) ? structuredClone(template) : {};
  const metadata = asObject(copy.metadata);
  const labels = asObject(metadata?.labels);
  if (leeway.dropGeneratedLabels && labels) for (const label of GENERATED_JOB_LABELS) delete labels[label];
  if (leeway.dropSchedulingDirectives) {
    const podSpec = asObject(copy.spec);
    if (podSpec) for (const field of MUTABLE_SCHEDULING_DIRECTIVES) delete podSpec[field];
    if (metadata) {
      delete metadata.labels;
      delete metadata.annotations;
    }
  }
  if (metadata) {
    if (isJsonObject(metadata.labels) && Object.keys(metadata.labels).length === 0) delete metadata.labels;
    if (Object.keys(metadata).length === 0) delete copy.metadata;
  }
  return copy;
}

/** The controller names a CronJob's Jobs `<name>-<11 characters>`, within 63. */
const MAX_CRONJOB_NAME = 52;

function validateCronJob(errors: FieldErrors, obj: JsonObject, old: JsonObject | undefined): void {
  const name = stringOf(getPath(obj, ['metadata', 'name']));
  if (name.length > MAX_CRONJOB_NAME) errors.invalid('metadata.name', name, maxLenError(MAX_CRONJOB_NAME));
  const spec = asObject(obj.spec) ?? {};
  const oldSpec = asObject(old?.spec);
  const schedule = stringOf(spec.schedule);
  if (!schedule) {
    errors.required('spec.schedule');
  } else {
    const problem = cronScheduleProblem(schedule);
    if (problem) errors.invalid('spec.schedule', schedule, problem);
    const allowTimeZoneInSchedule = stringOf(oldSpec?.schedule).includes('TZ');
    const timeZoneSet = spec.timeZone !== undefined && spec.timeZone !== null;
    if (allowTimeZoneInSchedule && schedule.includes('TZ') && timeZoneSet) {
      errors.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule');
    } else if (!allowTimeZoneInSchedule && schedule.includes('TZ')) {
      errors.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
    }
  }
  validateNonNegative(errors, spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds');
  if (!oldSpec || !jsonEqual(oldSpec.timeZone, spec.timeZone)) validateTimeZone(errors, spec.timeZone, 'spec.timeZone');
  const policy = spec.concurrencyPolicy;
  if (policy === undefined || policy === null || policy === '') errors.required('spec.concurrencyPolicy');
  else if (policy !== 'Allow' && policy !== 'Forbid' && policy !== 'Replace') errors.notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']);

  const jobSpec = asObject(getPath(spec, ['jobTemplate', 'spec'])) ?? {};
  validateJobSpec(errors, jobSpec, 'spec.jobTemplate.spec');
  if (jobSpec.selector !== undefined && jobSpec.selector !== null) {
    errors.invalid('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector), '`selector` will be auto-generated');
  }
  if (jobSpec.manualSelector === true) errors.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']);
  validateNonNegative(errors, spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit');
  validateNonNegative(errors, spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit');
}

function validateTimeZone(errors: FieldErrors, timeZone: unknown, path: string): void {
  if (timeZone === undefined || timeZone === null) return;
  const zone = String(timeZone);
  if (zone === '') {
    errors.invalid(path, zone, 'timeZone must be nil or non-empty string');
    return;
  }
  if (zone.split('/').some((part) => part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z._+\-0-9]+$/.test(part))) {
    errors.invalid(path, zone, `unknown time zone ${zone}`);
    return;
  }
  if (zone.toLowerCase() === 'local') {
    errors.invalid(path, zone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones');
  }
  if (!knownTimeZone(zone)) errors.invalid(path, zone, `unknown time zone ${zone}`);
}

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Cron schedules: the checks and messages of robfig/cron's standard parser
// ---------------------------------------------------------------------------------------------

interface CronBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const CRON_FIELDS: CronBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } },
  { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } },
];
const CRON_DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Why cron.ParseStandard refuses a schedule, in its words; undefined when it parses. */
export function cronScheduleProblem(schedule: string): string | undefined {
  if (schedule.length === 0) return 'empty spec string';
  let spec = schedule;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const zone = spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space);
    if (!knownTimeZone(zone)) return `provided bad location ${zone}: unknown time zone ${zone}`;
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (CRON_DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const problem = goDurationProblem(spec.slice('@every '.length));
      return problem ? `failed to parse duration ${spec}: ${problem}` : undefined;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== CRON_FIELDS.length) return `expected exactly ${CRON_FIELDS.length} fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (const [i, field] of fields.entries()) {
    for (const expr of field.split(',').filter((e) => e !== '')) {
      const problem = cronRangeProblem(expr, CRON_FIELDS[i]!);
      if (problem) return problem;
    }
  }
  return undefined;
}

function cronRangeProblem(expr: string, bounds: CronBounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0]!.split('-');
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    const low = cronNumber(lowAndHigh[0]!, bounds.names);
    if (typeof low === 'string') return low;
    start = low;
    if (lowAndHigh.length === 1) {
      end = start;
    } else if (lowAndHigh.length === 2) {
      const high = cronNumber(lowAndHigh[1]!, bounds.names);
      if (typeof high === 'string') return high;
      end = high;
    } else {
      return `too many hyphens: ${expr}`;
    }
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const parsed = cronNumber(rangeAndStep[1]!, undefined);
    if (typeof parsed === 'string') return parsed;
    step = parsed;
    if (lowAndHigh.length === 1) end = bounds.max; // "N/step" means "N-max/step"
  } else if (rangeAndStep.length > 2) {
    return `too many slashes: ${expr}`;
  }
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

/** A number (or a month/day name); a string is the error. */
function cronNumber(text: string, names: Record<string, number> | undefined): number | string {
  const named = names?.[text.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^[+-]?\d+$/.test(text)) return `failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`;
  const n = Number(text);
  if (n < 0) return `negative number (${n}) not allowed: ${text}`;
  return n;
}

/** time.ParseDuration's complaints about a duration string, or undefined when it parses. */
function goDurationProblem(text: string): string | undefined {
  const quoted = JSON.stringify(text);
  if (text === '0') return undefined;
  const body = text.replace(/^[+-]/, '');
  if (body === '') return `time: invalid duration ${quoted}`;
  const unitPattern = /^(\d+\.?\d*|\.\d+)([a-zµμ]*)/;
  let rest = body;
  while (rest !== '') {
    const m = unitPattern.exec(rest);
    if (!m) return `time: invalid duration ${quoted}`;
    const unit = m[2]!;
    if (unit === '') return `time: missing unit in duration ${quoted}`;
    if (!['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h'].includes(unit)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`;
    rest = rest.slice(m[0].length);
  }
  return undefined;
}
