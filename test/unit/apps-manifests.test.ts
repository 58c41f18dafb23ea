/**
 * The sample apps' compose files and Kubernetes manifests against each other and against the
 * images: the names, ports and files they refer to exist, services work without a routing
 * mesh, and the kube objects are wired as a real cluster expects (selectors, probes, ports).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Container, Service } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { APP_IMAGES, appsDir } from '../../src/docker/app-images.js';

const APPS = ['chat', 'web', 'probe'];
const REFS = new Set(APP_IMAGES.map((i) => i.ref));

interface ComposeService {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: { target: number; published: number; mode?: string }[];
  healthcheck?: { test: string[] };
  deploy?: { mode?: string; replicas?: number; endpoint_mode?: string; update_config?: { order?: string; failure_action?: string } };
}
interface Compose {
  version: string;
  services: Record<string, ComposeService>;
}

function compose(app: string): Compose {
  return parse(readFileSync(path.join(appsDir(), app, 'compose.yaml'), 'utf8')) as Compose;
}

type KubeObject = Deployment | Service;
function manifests(app: string): KubeObject[] {
  const dir = path.join(appsDir(), app, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((doc) => {
        expect(doc.errors, `${app}/k8s/${f}`).toEqual([]);
        return doc.toJS() as KubeObject;
      }),
    );
}
const deployments = (app: string): Deployment[] => manifests(app).filter((o): o is Deployment => o.kind === 'Deployment');
const services = (app: string): Service[] => manifests(app).filter((o): o is Service => o.kind === 'Service');
const containersOf = (d: Deployment): Container[] => d.spec?.template.spec?.containers ?? [];

/** "/app/chat/backend.mjs" in an image -> images/apps/chat/backend.mjs, which its Dockerfile copies. */
function expectInImage(file: string, app: string, where: string): void {
  expect(file, where).toMatch(/^\/app\//);
  const rel = file.slice('/app/'.length);
  expect(existsSync(path.join(appsDir(), rel)), `${where}: ${file} has no source`).toBe(true);
  const dockerfile = readFileSync(path.join(appsDir(), app, 'Dockerfile'), 'utf8');
  const [dir] = rel.split('/');
  expect(dockerfile.includes(rel) || dockerfile.includes(`COPY ${dir}/ /app/${dir}/`), `${where}: ${app}/Dockerfile does not copy ${rel}`).toBe(true);
}

/** The app whose image a ref is. */
const appOf = (ref: string): string => APP_IMAGES.find((i) => i.ref === ref)!.app;

/** http://NAME:PORT/... in a value -> [NAME, PORT]. */
function urlTargets(values: readonly string[]): [string, number][] {
  return values.flatMap((v) => [...v.matchAll(/http:\/\/([a-z][\w-]*):(\d+)/g)].map((m): [string, number] => [m[1]!, Number(m[2])]));
}

describe('compose files (swarm stacks)', () => {
  it.each(APPS)('%s: images exist, every service uses dnsrr and publishes in host mode only', (app) => {
    const file = compose(app);
    expect(file.version).toBe('3.8');
    for (const [name, service] of Object.entries(file.services)) {
      const where = `${app}/compose.yaml ${name}`;
      expect(REFS.has(service.image), `${where}: ${service.image}`).toBe(true);
      expect(service.deploy?.endpoint_mode, where).toBe('dnsrr');
      for (const port of service.ports ?? []) expect(port, where).toMatchObject({ mode: 'host', target: 8080 });
      const files = [...(service.command ?? []), ...(service.healthcheck?.test ?? [])].filter((a) => a.startsWith('/app/'));
      for (const f of files) expectInImage(f, appOf(service.image), where);
    }
  });

  it.each(['chat', 'web'])('%s: every http://NAME:PORT it uses is a service of the stack on 8080', (app) => {
    const file = compose(app);
    for (const [name, service] of Object.entries(file.services)) {
      const values = [...Object.values(service.environment ?? {}), ...(service.command ?? [])];
      for (const [host, port] of urlTargets(values)) {
        expect(Object.keys(file.services), `${app} ${name} -> ${host}`).toContain(host);
        expect(port).toBe(8080);
      }
    }
  });

  it('chat: several backends, a frontend on every node, the probe simulating conversations', () => {
    const { services: s } = compose('chat');
    expect(s.backend!.deploy!.replicas).toBeGreaterThanOrEqual(2);
    expect(s.backend!.command).toEqual(['node', '/app/chat/backend.mjs']);
    expect(s.store!.command).toEqual(['node', '/app/chat/store.mjs']);
    expect(s.frontend!.deploy!.mode).toBe('global');
    expect(s.frontend!.ports).toEqual([expect.objectContaining({ published: 8080 })]);
    expect(s.probe!.command).toEqual(expect.arrayContaining(['--simulate']));
    const published = Object.values(s).flatMap((svc) => (svc.ports ?? []).map((p) => p.published));
    expect(new Set(published).size).toBe(published.length);
  });

  it('web: healthy means ready, and updates start the new task first and pause when it fails', () => {
    const { web } = compose('web').services;
    expect(web!.healthcheck!.test).toEqual(['CMD', 'node', '/app/shared/healthcheck.mjs', 'http://127.0.0.1:8080/readyz']);
    expect(web!.deploy!.update_config).toMatchObject({ order: 'start-first', failure_action: 'pause' });
    expect(web!.image).toBe('clusterlab/web:v1');
  });
});

describe('Kubernetes manifests', () => {
  it.each(APPS)('%s: Deployments select their own pods and run known images with probes', (app) => {
    const list = deployments(app);
    expect(list.length).toBeGreaterThan(0);
    for (const d of list) {
      const where = `${app} Deployment ${d.metadata?.name}`;
      expect(d.apiVersion).toBe('apps/v1');
      const labels = d.spec!.template.metadata!.labels!;
      expect(labels, where).toMatchObject(d.spec!.selector.matchLabels!);
      for (const c of containersOf(d)) {
        expect(REFS.has(c.image!), `${where}: ${c.image}`).toBe(true);
        expect(c.imagePullPolicy, where).toBe('IfNotPresent');
        expect(c.readinessProbe?.httpGet, `${where}: readinessProbe`).toBeDefined();
        const portNames = (c.ports ?? []).map((p) => p.name);
        for (const probe of [c.readinessProbe, c.livenessProbe]) if (probe?.httpGet) expect(portNames, where).toContain(probe.httpGet.port);
        for (const f of (c.command ?? []).filter((a) => a.startsWith('/app/'))) expectInImage(f, appOf(c.image!), where);
      }
    }
  });

  it.each(APPS)('%s: each Service selects the pods of exactly one Deployment, on a port they name', (app) => {
    for (const s of services(app)) {
      const where = `${app} Service ${s.metadata?.name}`;
      const selector = s.spec!.selector!;
      const matching = deployments(app).filter((d) => Object.entries(selector).every(([k, v]) => d.spec!.template.metadata!.labels![k] === v));
      expect(matching.map((d) => d.metadata!.name), where).toHaveLength(1);
      const portNames = containersOf(matching[0]!).flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of s.spec!.ports!) expect(portNames, where).toContain(port.targetPort);
    }
  });

  it.each(['chat', 'web'])('%s: every http://NAME:PORT a pod uses is a Service of the app on that port', (app) => {
    const byName = new Map(services(app).map((s) => [s.metadata!.name!, s]));
    for (const d of deployments(app)) {
      for (const c of containersOf(d)) {
        const values = [...(c.args ?? []), ...(c.command ?? []), ...(c.env ?? []).map((e) => e.value ?? '')];
        for (const [host, port] of urlTargets(values)) {
          expect([...byName.keys()], `${d.metadata!.name} -> ${host}`).toContain(host);
          expect(byName.get(host)!.spec!.ports!.map((p) => p.port)).toContain(port);
        }
      }
    }
  });

  it('web and the chat backend and frontend are ready only through /readyz; rolling updates keep capacity', () => {
    const readyPath = (app: string, name: string): string | undefined =>
      containersOf(deployments(app).find((d) => d.metadata!.name === name)!)[0]!.readinessProbe!.httpGet!.path;
    expect(readyPath('web', 'web')).toBe('/readyz');
    expect(readyPath('chat', 'backend')).toBe('/readyz');
    expect(readyPath('chat', 'frontend')).toBe('/readyz');
    const web = deployments('web').find((d) => d.metadata!.name === 'web')!;
    expect(web.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(web.spec!.progressDeadlineSeconds).toBeGreaterThan(0);
    expect(containersOf(web)[0]!.image).toBe('clusterlab/web:v1');
  });

  it('NodePorts are in the Kubernetes range and never shared between the apps', () => {
    const nodePorts = APPS.flatMap((app) => services(app).flatMap((s) => (s.spec!.ports ?? []).map((p) => p.nodePort).filter((p): p is number => p !== undefined)));
    expect(nodePorts.length).toBeGreaterThanOrEqual(4);
    for (const p of nodePorts) expect(p >= 30000 && p <= 32767, String(p)).toBe(true);
    expect(new Set(nodePorts).size).toBe(nodePorts.length);
  });
});
