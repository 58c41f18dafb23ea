import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { call, sleep, startApp, stopAllApps } from './apps-helpers.js';

afterEach(stopAllApps);

describe('web app (images/apps/web/web.mjs)', { timeout: 20_000 }, () => {
  it.each(['v1', 'v2'])('%s answers its version and hostname, and is alive and ready', async (version) => {
    const web = await startApp('web/web.mjs', { env: { APP_VERSION: version } });
    const root = await call(`${web.url}/`);
    expect(root.status).toBe(200);
    expect(root.text).toBe(`web ${version} from ${os.hostname()}\n`);
    expect(root.headers.get('x-app-version')).toBe(version);
    expect(root.headers.get('x-served-by')).toBe(os.hostname());

    expect((await call(`${web.url}/healthz`)).status).toBe(200);
    const ready = await call(`${web.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', version });
  });

  it('v3 serves and is alive, but its readiness always fails', async () => {
    const web = await startApp('web/web.mjs', { env: { APP_VERSION: 'v3' } });
    expect((await call(`${web.url}/`)).text).toBe(`web v3 from ${os.hostname()}\n`);
    expect((await call(`${web.url}/healthz`)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const ready = await call(`${web.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.json).toMatchObject({ status: 'not ready', version: 'v3' });
    }
  });

  it('defaults to v1 without APP_VERSION; unknown paths are 404, writes 405', async () => {
    const web = await startApp('web/web.mjs', { env: { APP_VERSION: '' } });
    expect((await call(`${web.url}/`)).text).toMatch(/^web v1 from /);
    expect((await call(`${web.url}/nope`)).status).toBe(404);
    expect((await call(`${web.url}/`, { method: 'POST', body: {} })).status).toBe(405);
  });

  it('on SIGTERM keeps serving for DRAIN_MS with readiness failing, then exits 0', async () => {
    const web = await startApp('web/web.mjs', { env: { APP_VERSION: 'v2', DRAIN_MS: '800' } });
    expect((await call(`${web.url}/readyz`)).status).toBe(200);
    const signalledAt = Date.now();
    web.child.kill('SIGTERM');
    await sleep(150);
    expect((await call(`${web.url}/readyz`)).status).toBe(503);
    expect((await call(`${web.url}/`)).status).toBe(200);
    const { code } = await web.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(750);
    expect(web.output()).toContain('"event":"draining"');
  });
});
