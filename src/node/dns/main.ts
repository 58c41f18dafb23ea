/**
 * `node dns.js`: the cluster DNS on every control plane (the node's address and 127.0.0.1, port 53, UDP and TCP), behind the
 * kube-dns Service. Every control plane answers on its own: no leader election, since
 * answering is read-only.
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { ApiClient, clientOptionsFromPki } from '../shared/api-client.js';
import { log, runProcess } from '../controlplane/process.js';
import { Forwarder, parseNameservers } from '../controlplane/dns/forwarder.js';
import { DNS_PORT, DnsServer } from '../controlplane/dns/server.js';
import { InformerObjects, ZoneCache } from '../controlplane/dns/source.js';
import { ZONE } from '../controlplane/dns/records.js';

/** The node's own resolver configuration: Docker's embedded DNS, which knows the outside world. */
const NODE_RESOLV_CONF = '/etc/resolv.conf';

function readUpstreams(): ReturnType<typeof parseNameservers> {
  try {
    return parseNameservers(readFileSync(NODE_RESOLV_CONF, 'utf8'));
  } catch (err) {
    log(`dns: cannot read ${NODE_RESOLV_CONF}: ${(err as Error).message}`);
    return [];
  }
}

runProcess('dns', async (config, signal) => {
  const client = new ApiClient(clientOptionsFromPki('controlplane', config.kube!.apiServers, `clusterlab-dns/${config.node}`));
  const objects = new InformerObjects(client, log);
  const zone = new ZoneCache(objects);
  const upstreams = readUpstreams();
  if (upstreams.length === 0) log(`dns: no nameserver in ${NODE_RESOLV_CONF}: names outside ${ZONE} will get SERVFAIL`);
  // One listener per address rather than 0.0.0.0: a UDP answer must leave from the address the
  // query was sent to, or a pod on this node (whose route back is the pod bridge, with its own
  // address) would get it from the wrong source and conntrack could not undo the Service DNAT.
  const upstream = new Forwarder(upstreams, { log });
  const servers = [config.ip, '127.0.0.1'].map((host) => new DnsServer({ host, port: DNS_PORT, zone: () => zone.current(), upstream, log }));
  for (const server of servers) await server.listen();
  log(`dns: serving ${ZONE} on ${config.ip}:${DNS_PORT} and 127.0.0.1:${DNS_PORT} (UDP, TCP); other names go to ${upstreams.map((u) => u.address).join(', ') || 'nowhere'}`);
  // Not awaited: forwarding works from the start; cluster names answer SERVFAIL until synced.
  objects.start().catch(() => undefined);
  if (!signal.aborted) await once(signal, 'abort');
  objects.stop();
  for (const server of servers) await server.close();
});
