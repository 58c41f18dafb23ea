/**
 * GET pods/NAME/log: the checks kube-apiserver and the kubelet make, then the agent's log
 * stream passed on as it comes (chunked, each piece written at once, so `-f` shows lines as
 * they are logged), until the agent ends it or the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceType } from '../resources.js';
import { badRequest } from '../status.js';
import { agentError, type PodStreamContext } from './context.js';
import { logUnavailableReason, resolveContainer } from './pod-target.js';
import { logOptions } from './stream-options.js';

export async function serveLogs(
  resp: ServerResponse,
  ctx: PodStreamContext,
  target: { pods: ResourceType; namespace: string; name: string; query: URLSearchParams },
): Promise<void> {
  const opts = logOptions(target.query, target.pods, target.name);
  const pod = await ctx.getPod(target.namespace, target.name);
  const container = resolveContainer(pod, opts.container);
  const unavailable = logUnavailableReason(pod, container, opts.previous);
  if (unavailable) throw badRequest(unavailable);
  const endpoint = await ctx.endpointFor(pod);

  let clientGone = false;
  resp.once('close', () => (clientGone = true));
  let upstream: IncomingMessage;
  try {
    upstream = await ctx.kubelet.containerLogs(endpoint, target.namespace, target.name, container, opts.agentQuery);
  } catch (err) {
    throw agentError(err, 'GET');
  }
  if (clientGone) {
    upstream.destroy();
    return;
  }

  resp.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  resp.flushHeaders();
  await new Promise<void>((resolve) => {
    const finish = () => {
      upstream.destroy();
      resolve();
    };
    // The client left (Ctrl-C on `kubectl logs -f`): stop reading from the agent.
    resp.on('close', finish);
    upstream.on('data', (chunk: Buffer) => {
      if (!resp.write(chunk)) {
        upstream.pause();
        resp.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => {
      resp.end();
      resolve();
    });
    upstream.on('error', () => {
      resp.end();
      resolve();
    });
  });
}
