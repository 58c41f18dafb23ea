/**
 * Liveness, readiness and startup probes: one timer loop per probe of each running container,
 * thresholds applied in pure code (probe-state), results kept until the container goes away.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import type { ContainerRuntime, RuntimeContainer } from './runtime.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeState {
  result: ProbeResult;
  successes: number;
  failures: number;
}

/** Before the first run: live (liveness), not ready (readiness), not started (startup). */
export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'liveness' ? 'success' : kind === 'readiness' ? 'failure' : 'unknown', successes: 0, failures: 0 };
}

/** One probe outcome applied with the probe's thresholds. */
export function recordProbeOutcome(state: ProbeState, ok: boolean, probe: Probe): ProbeState {
  if (ok) {
    const successes = state.successes + 1;
    return { result: successes >= (probe.successThreshold ?? 1) ? 'success' : state.result, successes, failures: 0 };
  }
  const failures = state.failures + 1;
  return { result: failures >= (probe.failureThreshold ?? 3) ? 'failure' : state.result, successes: 0, failures };
}

export interface ProbeTarget {
  container: RuntimeContainer;
  spec: Container;
  podIP: string;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

export type ProbeRunner = (probe: Probe, target: ProbeTarget) => Promise<ProbeOutcome>;

export interface ProbeReport {
  podUid: string;
  container: RuntimeContainer;
  kind: ProbeKind;
  outcome: ProbeOutcome;
  /** The result after this outcome, and whether it changed. */
  result: ProbeResult;
  changed: boolean;
}

interface Worker {
  podUid: string;
  kind: ProbeKind;
  state: ProbeState;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

interface ContainerProbes {
  podUid: string;
  workers: Map<ProbeKind, Worker>;
}

const PROBE_KINDS: ProbeKind[] = ['startup', 'liveness', 'readiness'];

function probeOf(spec: Container, kind: ProbeKind): Probe | undefined {
  return kind === 'liveness' ? spec.livenessProbe : kind === 'readiness' ? spec.readinessProbe : spec.startupProbe;
}

export class ProbeManager {
  /** container id -> its probes */
  private readonly containers = new Map<string, ContainerProbes>();

  constructor(
    private readonly runner: ProbeRunner,
    private readonly onReport: (report: ProbeReport) => void,
  ) {}

  /** Runs probes for exactly these running containers of the pod (starting new workers, stopping others). */
  track(podUid: string, targets: ProbeTarget[]): void {
    const ids = new Set(targets.map((t) => t.container.id));
    for (const [id, entry] of this.containers) if (entry.podUid === podUid && !ids.has(id)) this.stopContainer(id);
    for (const target of targets) {
      if (this.containers.has(target.container.id)) continue;
      const workers = new Map<ProbeKind, Worker>();
      this.containers.set(target.container.id, { podUid, workers });
      for (const kind of PROBE_KINDS) {
        const probe = probeOf(target.spec, kind);
        if (!probe) continue;
        const worker: Worker = { podUid, kind, state: initialProbeState(kind), timer: undefined, stopped: false };
        workers.set(kind, worker);
        this.schedule(worker, probe, target, (probe.initialDelaySeconds ?? 0) * 1000);
      }
    }
  }

  /** Stops every probe of a pod (its containers are gone or going). */
  forgetPod(podUid: string): void {
    for (const [id, entry] of this.containers) if (entry.podUid === podUid) this.stopContainer(id);
  }

  stopAll(): void {
    for (const id of [...this.containers.keys()]) this.stopContainer(id);
  }

  result(containerId: string, kind: ProbeKind): ProbeResult | undefined {
    return this.containers.get(containerId)?.workers.get(kind)?.state.result;
  }

  isStarted(container: RuntimeContainer, spec: Container): boolean {
    return !spec.startupProbe || this.result(container.id, 'startup') === 'success';
  }

  isReady(container: RuntimeContainer, spec: Container): boolean {
    return !spec.readinessProbe || this.result(container.id, 'readiness') === 'success';
  }

  /** Liveness failed, or the startup probe gave up: the container must be killed. */
  mustRestart(container: RuntimeContainer): 'liveness' | 'startup' | undefined {
    if (this.result(container.id, 'liveness') === 'failure') return 'liveness';
    if (this.result(container.id, 'startup') === 'failure') return 'startup';
    return undefined;
  }

  private stopContainer(id: string): void {
    for (const worker of this.containers.get(id)?.workers.values() ?? []) {
      worker.stopped = true;
      if (worker.timer) clearTimeout(worker.timer);
    }
    this.containers.delete(id);
  }

  private schedule(worker: Worker, probe: Probe, target: ProbeTarget, delayMs: number): void {
    worker.timer = setTimeout(() => void this.runOnce(worker, probe, target), delayMs);
  }

  private async runOnce(worker: Worker, probe: Probe, target: ProbeTarget): Promise<void> {
    if (worker.stopped) return;
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    // Liveness and readiness wait for the startup probe, as in Kubernetes; startup stops once it succeeded.
    const startup = this.result(target.container.id, 'startup');
    const startupPending = worker.kind !== 'startup' && startup !== undefined && startup !== 'success';
    if (startupPending) {
      this.schedule(worker, probe, target, Math.min(periodMs, 1000));
      return;
    }
    let outcome: ProbeOutcome;
    try {
      outcome = await this.runner(probe, target);
    } catch (err) {
      outcome = { ok: false, message: (err as Error).message };
    }
    if (worker.stopped) return;
    const before = worker.state.result;
    worker.state = recordProbeOutcome(worker.state, outcome.ok, probe);
    const changed = worker.state.result !== before;
    this.onReport({ podUid: worker.podUid, container: target.container, kind: worker.kind, outcome, result: worker.state.result, changed });
    const done = (worker.kind === 'startup' && worker.state.result === 'success') || (worker.state.result === 'failure' && worker.kind !== 'readiness');
    if (!done) this.schedule(worker, probe, target, periodMs);
  }
}

/** The real probes: exec in the container, HTTP GET or a TCP connect to the pod's address. */
export function runtimeProbeRunner(runtime: ContainerRuntime): ProbeRunner {
  return async (probe, target) => {
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    if (probe.exec) {
      const result = await runtime.exec(target.container.id, probe.exec.command ?? [], timeoutMs);
      return { ok: result.exitCode === 0, message: result.output.trim() || `command exited with ${result.exitCode}` };
    }
    if (probe.httpGet) {
      const port = resolvePort(probe.httpGet.port, target.spec);
      const host = probe.httpGet.host || target.podIP;
      return httpProbe(probe.httpGet.scheme === 'HTTPS', host, port, probe.httpGet.path ?? '/', probe.httpGet.httpHeaders ?? [], timeoutMs);
    }
    if (probe.tcpSocket) {
      return tcpProbe(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target.spec), timeoutMs);
    }
    // grpc probes would need an HTTP/2 gRPC client: treated as passing rather than killing the container.
    return { ok: true, message: 'probe type not supported by clusterlab; treated as success' };
  };
}

/** A probe port: a number, or the name of one of the container's ports. */
export function resolvePort(port: number | string, spec: Container): number {
  if (typeof port === 'number') return port;
  const named = spec.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const numeric = Number(port);
  return Number.isInteger(numeric) ? numeric : 0;
}

function httpProbe(tls: boolean, host: string, port: number, path: string, headers: { name: string; value: string }[], timeoutMs: number): Promise<ProbeOutcome> {
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
  return new Promise((resolve) => {
    const requestHeaders: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
    for (const header of headers) requestHeaders[header.name] = header.value;
    const options = { method: 'GET', headers: requestHeaders, ...(tls ? { rejectUnauthorized: false } : {}) };
    const req = (tls ? https : http).request(url, options, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400 ? { ok: true, message: '' } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded while awaiting headers)`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, message: `Get "${url}": ${dialMessage(host, port, err)}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, message: dialMessage(host, port, err) }));
  });
}

/** Go's wording, which is what learners find when they search the message. */
function dialMessage(host: string, port: number, err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (err.code === 'ETIMEDOUT') return `dial tcp ${host}:${port}: i/o timeout`;
  return err.message;
}
