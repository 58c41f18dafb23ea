/**
 * What the stream handlers need from the rest of the API server: the pod and node they are
 * about, the node agent's client, and a way to dial into the pod network. Kept narrow so that
 * the handlers can be tested without the registry.
 */
import net from 'node:net';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiStatusError, badRequest } from '../status.js';
import { KubeletResponseError, KubeletUnreachableError, kubeletEndpoint, type KubeletClient, type KubeletEndpoint } from './kubelet-client.js';
import { requireNode } from './pod-target.js';

export interface PodStreamContext {
  /** The pod, or a 404 ApiStatusError `pods "x" not found`. */
  getPod(namespace: string, name: string): Promise<Pod>;
  /** Where the agent of the pod's node listens (400 when the pod has no node, 404/500 when the node is missing or has no address). */
  endpointFor(pod: Pod): Promise<KubeletEndpoint>;
  kubelet: KubeletClient;
  /** Opens a TCP connection into the pod network (port-forward dials the pod itself). */
  dial(host: string, port: number): net.Socket;
  log(line: string): void;
}

export function createPodStreamContext(deps: {
  getPod: (namespace: string, name: string) => Promise<Pod>;
  getNode: (name: string) => Promise<Node>;
  kubelet: KubeletClient;
  log: (line: string) => void;
  dial?: (host: string, port: number) => net.Socket;
}): PodStreamContext {
  return {
    getPod: deps.getPod,
    kubelet: deps.kubelet,
    log: deps.log,
    dial: deps.dial ?? ((host, port) => net.connect({ host, port })),
    endpointFor: async (pod) => {
      const node = await deps.getNode(requireNode(pod));
      const endpoint = kubeletEndpoint(node);
      if (!endpoint) {
        const known = (node.status?.addresses ?? []).map((a) => `{${a.type} ${a.address}}`).join(' ');
        throw serverError(`no preferred addresses found; known addresses: [${known}]`);
      }
      return endpoint;
    },
  };
}

/** A 500 without a reason: how kube-apiserver answers errors that are not API errors (kubectl: "Error from server: ..."). */
export function serverError(message: string): ApiStatusError {
  return new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 });
}

/** An agent's failure as the API answer kube-apiserver would give for it. */
export function agentError(err: unknown, verb: 'GET' | 'dial'): ApiStatusError {
  if (err instanceof ApiStatusError) return err;
  if (err instanceof KubeletResponseError) {
    const message = err.body.trim();
    if (err.statusCode === 400) return badRequest(message);
    if (err.statusCode === 404) {
      return new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', code: 404 });
    }
    return serverError(message);
  }
  if (err instanceof KubeletUnreachableError) {
    return serverError(verb === 'GET' ? `Get "${err.url}": ${err.message}` : `error dialing backend: ${err.message}`);
  }
  return serverError(err instanceof Error ? err.message : String(err));
}
