// The chat's store: a tiny in-memory key-value and list server (a stand-in for Redis). One
// replica; its data lives as long as the process, which is the point of a lab that asks
// "what happens to the users when the store restarts?".
//
//   GET    /healthz
//   GET    /kv?prefix=P        every key starting with P: {items: [{key, value}]}
//   GET    /kv/KEY             {key, value} or 404
//   PUT    /kv/KEY             body: any JSON value
//   DELETE /kv/KEY
//   POST   /lists/KEY          body {value, max?}: append, keep the last `max` (default 100): {length}
//   GET    /lists/KEY?last=N   the last N items (default 20): {items, length}
import { HttpError, readBody, readJson, replica, sendJson, serve } from '../shared/http.mjs';

/** Limits that keep a runaway client from filling the node's memory. */
const MAX_KEYS = 10_000;
const MAX_LIST = 1_000;

const values = new Map();
const lists = new Map();

function keyOf(path, prefix) {
  const key = decodeURIComponent(path.slice(prefix.length));
  if (!key) throw new HttpError(400, 'empty key');
  return key;
}

function whole(raw, fallback, max) {
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `"${raw}" is not a whole number >= 1`);
  return Math.min(n, max);
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://store');
  const { pathname: path } = url;
  const route = `${req.method} ${path.startsWith('/kv/') ? '/kv/KEY' : path.startsWith('/lists/') ? '/lists/KEY' : path}`;

  switch (route) {
    case 'GET /healthz':
      return sendJson(res, 200, { status: 'ok', keys: values.size, lists: lists.size, replica });
    case 'GET /kv': {
      const prefix = url.searchParams.get('prefix') ?? '';
      const items = [...values].filter(([key]) => key.startsWith(prefix)).map(([key, value]) => ({ key, value }));
      return sendJson(res, 200, { items });
    }
    case 'GET /kv/KEY': {
      const key = keyOf(path, '/kv/');
      if (!values.has(key)) throw new HttpError(404, `no key ${key}`);
      return sendJson(res, 200, { key, value: values.get(key) });
    }
    case 'PUT /kv/KEY': {
      const key = keyOf(path, '/kv/');
      const text = (await readBody(req)).toString('utf8');
      let value;
      try {
        value = JSON.parse(text);
      } catch {
        throw new HttpError(400, 'body is not valid JSON');
      }
      if (!values.has(key) && values.size >= MAX_KEYS) throw new HttpError(507, `the store holds ${MAX_KEYS} keys already`);
      values.set(key, value);
      return sendJson(res, 200, { key });
    }
    case 'DELETE /kv/KEY':
      return sendJson(res, 200, { key: keyOf(path, '/kv/'), deleted: values.delete(keyOf(path, '/kv/')) });
    case 'POST /lists/KEY': {
      const key = keyOf(path, '/lists/');
      const body = await readJson(req);
      if (!('value' in body)) throw new HttpError(400, 'body needs a "value"');
      const max = whole(body.max === undefined ? null : String(body.max), 100, MAX_LIST);
      if (!lists.has(key) && lists.size >= MAX_KEYS) throw new HttpError(507, `the store holds ${MAX_KEYS} lists already`);
      const list = lists.get(key) ?? [];
      list.push(body.value);
      if (list.length > max) list.splice(0, list.length - max);
      lists.set(key, list);
      return sendJson(res, 200, { key, length: list.length });
    }
    case 'GET /lists/KEY': {
      const list = lists.get(keyOf(path, '/lists/')) ?? [];
      const last = whole(url.searchParams.get('last'), 20, MAX_LIST);
      return sendJson(res, 200, { items: list.slice(-last), length: list.length });
    }
    default:
      throw new HttpError(404, `no route ${req.method} ${path}`);
  }
}

serve('chat-store', handle);
