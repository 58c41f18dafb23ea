/**
 * Lab progress, kept per cluster in `<clusterStateDir>/lab.json`: the one file the
 * dashboard watches and `lab status -o json` prints, so its shape is fixed (LabProgress).
 * What only the runner needs (where the lab came from, the language, hints shown) is kept
 * beside it in `lab-session.json`. Both are written whole and renamed into place, so a
 * reader never sees half a file. The functions that change progress are pure.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { clusterStateDir } from '../cluster/state.js';
import type { CompareEvent } from '../compare/events.js';
import type { LabEngine } from './engines.js';
import { localize } from './i18n.js';
import type { Lab } from './validate.js';

export type StepStatus = 'pending' | 'passed' | 'failed' | 'skipped';

export interface StepProgress {
  id: string;
  title: string;
  status: StepStatus;
  /** Why it failed (what a check expected and saw), or what happened. */
  message?: string;
  /** ISO time of the last check (or skip). */
  checkedAt?: string;
  /** A passed step that `measures` an event: what it took (see StepMeasurement). */
  measurement?: StepMeasurement;
}

/**
 * An event measured by a lab step: from the probe's reset (the step's text and solution reset
 * it just before the event) to the first round of checks that passed and held, and what the
 * probe counted in that window. The same figures `clusterlab compare` measures.
 */
export interface StepMeasurement {
  event: CompareEvent;
  seconds: number;
  requests: number;
  failed: number;
  downtimeSeconds: number;
  failuresByReason: Record<string, number>;
  latencyP95Ms: number | null;
  measuredAt: string;
}

export interface LabProgress {
  lab: string;
  title: string;
  engine: LabEngine;
  /** The step to work on; absent when no step is left to do. */
  currentStep?: string;
  steps: StepProgress[];
  /** Every step passed. */
  done: boolean;
  updatedAt: string;
}

export interface LabSession {
  /** The lab's folder, to load it again. */
  labDir: string;
  lang: string;
  /** Hints shown so far, by step id. */
  hintsShown: Record<string, number>;
  startedAt: string;
}

export function progressFile(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(clusterStateDir(cluster, env), 'lab.json');
}

export function sessionFile(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(clusterStateDir(cluster, env), 'lab-session.json');
}

/** Every step pending, the first one current. */
export function freshProgress(lab: Lab, engine: LabEngine, lang: string, now: Date): LabProgress {
  return {
    lab: lab.name,
    title: localize(lab.title, lang),
    engine,
    currentStep: lab.steps[0]?.id,
    steps: lab.steps.map((s) => ({ id: s.id, title: localize(s.title, lang), status: 'pending' })),
    done: false,
    updatedAt: now.toISOString(),
  };
}

const isOpen = (s: StepProgress) => s.status === 'pending' || s.status === 'failed';

/**
 * The progress after a step got a result. A passed or skipped step moves the lab on to the
 * next open step after it (or else the first open one before it); a failed one stays current.
 */
export function recordStep(
  progress: LabProgress,
  stepId: string,
  status: Exclude<StepStatus, 'pending'>,
  message: string | undefined,
  now: Date,
  measurement?: StepMeasurement,
): LabProgress {
  const index = progress.steps.findIndex((s) => s.id === stepId);
  if (index < 0) throw new Error(`no step ${stepId} in lab ${progress.lab}`);
  const steps = progress.steps.map((s, i): StepProgress => {
    if (i !== index) return s;
    const updated: StepProgress = { id: s.id, title: s.title, status, checkedAt: now.toISOString() };
    if (message !== undefined) updated.message = message;
    if (measurement !== undefined && status === 'passed') updated.measurement = measurement;
    return updated;
  });
  let currentStep: string | undefined = stepId;
  if (status !== 'failed') {
    const after = steps.slice(index + 1).find(isOpen) ?? steps.slice(0, index).find(isOpen);
    currentStep = after?.id;
  }
  const next: LabProgress = { ...progress, steps, done: steps.every((s) => s.status === 'passed'), updatedAt: now.toISOString() };
  if (currentStep === undefined) delete next.currentStep;
  else next.currentStep = currentStep;
  return next;
}

async function writeAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
  await rename(temp, file);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readProgress(cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<LabProgress | undefined> {
  return readJson<LabProgress>(progressFile(cluster, env));
}

export async function writeProgress(cluster: string, progress: LabProgress, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await writeAtomically(progressFile(cluster, env), progress);
}

export async function readSession(cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<LabSession | undefined> {
  return readJson<LabSession>(sessionFile(cluster, env));
}

export async function writeSession(cluster: string, session: LabSession, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await writeAtomically(sessionFile(cluster, env), session);
}

export async function removeProgress(cluster: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await Promise.all([rm(progressFile(cluster, env), { force: true }), rm(sessionFile(cluster, env), { force: true })]);
}
