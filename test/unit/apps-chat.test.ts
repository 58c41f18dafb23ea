import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { call, sleep, startApp, stopAllApps, type AppProcess } from './apps-helpers.js';

afterEach(stopAllApps);

const replica = os.hostname();

async function startStoreAndBackend(env: Record<string, string> = {}): Promise<{ store: AppProcess; backend: AppProcess }> {
  const store = await startApp('chat/store.mjs');
  const backend = await startApp('chat/backend.mjs', { env: { STORE_URL: store.url, ...env } });
  return { store, backend };
}

describe('chat store (images/apps/chat/store.mjs)', { timeout: 20_000 }, () => {
  it('keeps values by key, lists them by prefix, and says 404 for a missing key', async () => {
    const store = await startApp('chat/store.mjs');
    expect((await call(`${store.url}/kv/users%2Fann`, { method: 'PUT', body: { name: 'ann' } })).status).toBe(200);
    await call(`${store.url}/kv/users%2Fbob`, { method: 'PUT', body: { name: 'bob' } });
    await call(`${store.url}/kv/other`, { method: 'PUT', body: 1 });

    expect((await call(`${store.url}/kv/users%2Fann`)).json).toEqual({ key: 'users/ann', value: { name: 'ann' } });
    const listed = (await call(`${store.url}/kv?prefix=users%2F`)).json as { items: { key: string }[] };
    expect(listed.items.map((i) => i.key).sort()).toEqual(['users/ann', 'users/bob']);
    expect((await call(`${store.url}/kv/nobody`)).status).toBe(404);

    expect((await call(`${store.url}/kv/other`, { method: 'DELETE' })).json).toMatchObject({ deleted: true });
    expect((await call(`${store.url}/kv/other`)).status).toBe(404);
    expect((await call(`${store.url}/kv/bad`, { method: 'PUT', body: '{not json' })).status).toBe(400);
  });

  it('appends to lists, keeps only the last `max`, and returns the last N', async () => {
    const store = await startApp('chat/store.mjs');
    for (let i = 1; i <= 5; i++) {
      const added = await call(`${store.url}/lists/c1`, { method: 'POST', body: { value: i, max: 3 } });
      expect(added.json).toMatchObject({ length: Math.min(i, 3) });
    }
    expect((await call(`${store.url}/lists/c1`)).json).toEqual({ items: [3, 4, 5], length: 3 });
    expect((await call(`${store.url}/lists/c1?last=2`)).json).toEqual({ items: [4, 5], length: 3 });
    expect((await call(`${store.url}/lists/empty`)).json).toEqual({ items: [], length: 0 });
    expect((await call(`${store.url}/lists/c1`, { method: 'POST', body: { nothing: true } })).status).toBe(400);
    expect((await call(`${store.url}/lists/c1?last=zero`)).status).toBe(400);
  });
});

describe('chat backend (images/apps/chat/backend.mjs) on the real store', { timeout: 20_000 }, () => {
  it('stores messages and users in the store and names its replica in every answer', async () => {
    const { store, backend } = await startStoreAndBackend();
    const posted = await call(`${backend.url}/conversations/c7/messages`, { method: 'POST', body: { from: 'ann', text: 'hello' } });
    expect(posted.status).toBe(201);
    expect(posted.headers.get('x-served-by')).toBe(replica);
    expect(posted.json).toMatchObject({ replica, length: 1, message: { from: 'ann', text: 'hello', replica } });
    await call(`${backend.url}/conversations/c7/messages`, { method: 'POST', body: { from: 'bob', text: 'hi ann' } });

    const read = (await call(`${backend.url}/conversations/c7/messages`)).json as { messages: { from: string; text: string }[]; length: number };
    expect(read.messages.map((m) => `${m.from}: ${m.text}`)).toEqual(['ann: hello', 'bob: hi ann']);
    expect(read.length).toBe(2);
    // The data is in the store, not in the backend.
    expect(((await call(`${store.url}/lists/conversations%2Fc7`)).json as { length: number }).length).toBe(2);

    expect((await call(`${backend.url}/users`, { method: 'POST', body: { name: 'carol' } })).status).toBe(201);
    const users = (await call(`${backend.url}/users`)).json as { users: { name: string }[]; replica: string };
    expect(users.users.map((u) => u.name).sort()).toEqual(['ann', 'bob', 'carol']);
    expect(users.replica).toBe(replica);

    const whoami = await call(`${backend.url}/whoami`);
    expect(whoami.json).toMatchObject({ replica, version: '1' });
  });

  it('refuses bad input with 400', async () => {
    const { backend } = await startStoreAndBackend();
    expect((await call(`${backend.url}/conversations/c1/messages`, { method: 'POST', body: { from: 'a b', text: 'x' } })).status).toBe(400);
    expect((await call(`${backend.url}/conversations/c1/messages`, { method: 'POST', body: { from: 'ann', text: '' } })).status).toBe(400);
    expect((await call(`${backend.url}/conversations/c1/messages`, { method: 'POST', body: '[1]' })).status).toBe(400);
    expect((await call(`${backend.url}/users`, { method: 'POST', body: {} })).status).toBe(400);
    expect((await call(`${backend.url}/nope`)).status).toBe(404);
  });

  it('is alive without its store but not ready, and answers 503 for data', async () => {
    const { store, backend } = await startStoreAndBackend({ STORE_TIMEOUT_MS: '500' });
    expect((await call(`${backend.url}/readyz`)).status).toBe(200);
    store.child.kill('SIGKILL');
    await store.exited;
    const ready = await call(`${backend.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not ready', reason: expect.stringContaining('ECONNREFUSED') });
    expect((await call(`${backend.url}/healthz`)).status).toBe(200);
    const posted = await call(`${backend.url}/conversations/c1/messages`, { method: 'POST', body: { from: 'ann', text: 'anyone?' } });
    expect(posted.status).toBe(503);
    expect(posted.json).toMatchObject({ error: expect.stringContaining('store unavailable'), replica });
  });

  it('POST /crash answers 202 with its replica, then exits with status 1', async () => {
    const { backend } = await startStoreAndBackend();
    const crashed = await call(`${backend.url}/crash`, { method: 'POST' });
    expect(crashed.status).toBe(202);
    expect(crashed.json).toMatchObject({ crashing: true, replica });
    const { code } = await backend.exited;
    expect(code).toBe(1);
  });
});

describe('chat frontend (images/apps/chat/frontend.mjs)', { timeout: 20_000 }, () => {
  it('serves the page and forwards /api/X to the backend as /X, passing on who answered', async () => {
    const { backend } = await startStoreAndBackend();
    const frontend = await startApp('chat/frontend.mjs', { env: { BACKEND_URL: backend.url } });

    const page = await call(`${frontend.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('Crash a backend');

    const posted = await call(`${frontend.url}/api/conversations/f1/messages`, { method: 'POST', body: { from: 'ann', text: 'via the frontend' } });
    expect(posted.status).toBe(201);
    expect(posted.headers.get('x-served-by')).toBe(replica);
    expect(posted.headers.get('x-frontend')).toBe(replica);
    const read = await call(`${frontend.url}/api/conversations/f1/messages?last=1`);
    expect((read.json as { messages: { text: string }[] }).messages.map((m) => m.text)).toEqual(['via the frontend']);
    // The backend's own errors pass through unchanged.
    expect((await call(`${frontend.url}/api/nope`)).status).toBe(404);
  });

  it('answers 502 with the reason while no backend answers, and recovers when one does', async () => {
    const { store, backend } = await startStoreAndBackend();
    const port = backend.port;
    const frontend = await startApp('chat/frontend.mjs', { env: { BACKEND_URL: backend.url } });
    expect((await call(`${frontend.url}/api/whoami`)).status).toBe(200);

    backend.child.kill('SIGKILL');
    await backend.exited;
    const down = await call(`${frontend.url}/api/whoami`);
    expect(down.status).toBe(502);
    expect(down.json).toMatchObject({ error: 'backend unavailable: ECONNREFUSED', upstream: '127.0.0.1' });

    await startApp('chat/backend.mjs', { env: { STORE_URL: store.url }, port });
    expect((await call(`${frontend.url}/api/whoami`)).status).toBe(200);
  });

  it('"crash a backend": POST /api/crash ends the backend it reached', async () => {
    const { backend } = await startStoreAndBackend();
    const frontend = await startApp('chat/frontend.mjs', { env: { BACKEND_URL: backend.url } });
    const crashed = await call(`${frontend.url}/api/crash`, { method: 'POST' });
    expect(crashed.status).toBe(202);
    expect(crashed.json).toMatchObject({ crashing: true, replica });
    expect((await backend.exited).code).toBe(1);
    await sleep(50);
    expect((await call(`${frontend.url}/api/whoami`)).status).toBe(502);
  });

  it('answers 504 when the backend is slower than UPSTREAM_TIMEOUT_MS', async () => {
    const http = await import('node:http');
    // A backend that accepts and never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const frontend = await startApp('chat/frontend.mjs', { env: { BACKEND_URL: `http://127.0.0.1:${port}`, UPSTREAM_TIMEOUT_MS: '300' } });
      const started = Date.now();
      const slow = await call(`${frontend.url}/api/whoami`);
      expect(slow.status).toBe(504);
      expect(slow.json).toMatchObject({ error: 'backend unavailable: ETIMEDOUT' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
