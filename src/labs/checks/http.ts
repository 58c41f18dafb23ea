/**
 * Where URL checks send their request: a URL, or a node's address and a port (a
 * host-mode published port, a NodePort), resolved through the cluster view so the same
 * check works on a local cluster and on a remote one. One request per connection, as a
 * browser opening the page fresh would.
 */
import http from 'node:http';
import https from 'node:https';
import * as z from 'zod';
import type { CheckContext } from './types.js';

export const httpTargetFields = {
  url: z.string().url().optional().meta({ description: 'Full URL, like http://127.0.0.1:8080/.' }),
  node: z.string().min(1).optional().meta({ description: "Ask this node's address (with port and path) instead of a URL." }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'Port on the node (with node).' }),
  path: z.string().startsWith('/').default('/').meta({ description: 'Path on the node (with node); default /.' }),
  status: z.int().min(100).max(599).optional().meta({ description: 'Expected status; default any 2xx or 3xx.' }),
  contains: z.string().optional().meta({ description: 'The body contains this text.' }),
};

export interface HttpTarget {
  url?: string | undefined;
  node?: string | undefined;
  port?: number | undefined;
  path: string;
  status?: number | undefined;
  contains?: string | undefined;
}

/** Zod refinement: a URL, or a node with a port. */
export function targetProblem(p: Pick<HttpTarget, 'url' | 'node' | 'port'>): string | undefined {
  if (p.url !== undefined && (p.node !== undefined || p.port !== undefined)) return 'give either url, or node and port, not both';
  if (p.url === undefined && (p.node === undefined || p.port === undefined)) return 'give url, or node and port';
  return undefined;
}

export function describeTarget(p: HttpTarget): string {
  return p.url ?? `http://${p.node}:${p.port}${p.path}`;
}

/** The URL to ask, with the node's address from the cluster view. */
export async function resolveUrl(p: HttpTarget, ctx: CheckContext): Promise<{ url?: string; problem?: string }> {
  if (p.url) return { url: p.url };
  const nodes = await ctx.view.nodes();
  const node = nodes.find((n) => n.name === p.node);
  if (!node) return { problem: `no node ${p.node} in the cluster (its nodes: ${nodes.map((n) => n.name).join(', ') || 'none'})` };
  if (!node.address) return { problem: `node ${p.node} has no known address` };
  const host = node.address.includes(':') ? `[${node.address}]` : node.address;
  return { url: `http://${host}:${p.port}${p.path}` };
}

export interface HttpAnswer {
  status?: number;
  body?: string;
  error?: string;
}

/** One GET, on its own connection, within `timeoutMs`; never throws. */
export function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    let settled = false;
    const finish = (answer: HttpAnswer) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    try {
      const req = client.get(url, { agent: false, timeout: timeoutMs, headers: { 'User-Agent': 'clusterlab-lab-check', Connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // Enough to look for a phrase; a check never needs a whole download.
          if (body.length < 64 * 1024) body += chunk;
        });
        res.on('end', () => finish({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => finish({ error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => finish({ error: err.code ? `${err.code}: ${err.message}` : err.message }));
    } catch (err) {
      finish({ error: (err as Error).message });
    }
  });
}

/** Whether an answer is what the target expects, and if not, why. */
export function judgeAnswer(p: Pick<HttpTarget, 'status' | 'contains'>, answer: HttpAnswer): { ok: boolean; seen: string } {
  if (answer.error !== undefined) return { ok: false, seen: answer.error };
  const status = answer.status ?? 0;
  const statusOk = p.status === undefined ? status >= 200 && status < 400 : status === p.status;
  const bodyOk = p.contains === undefined || (answer.body ?? '').includes(p.contains);
  const firstLine = (answer.body ?? '').trim().split('\n')[0]?.slice(0, 80) ?? '';
  return { ok: statusOk && bodyOk, seen: `HTTP ${status}${firstLine ? ` "${firstLine}"` : ''}` };
}
