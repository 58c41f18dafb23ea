/**
 * Forwarding of the names that are not the cluster's: to the nameservers of the node's own
 * /etc/resolv.conf (Docker's embedded DNS on a user-defined network), each tried in turn with
 * a short timeout. The query goes out unchanged, id included, over the transport it came in
 * on, so the reply can go back as it is.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';
import { TcpMessageReader, frameTcpMessage } from './wire.js';

export type Transport = 'udp' | 'tcp';

export interface UpstreamServer {
  address: string;
  port: number;
}

/** What the server needs from upstream resolution (a fake in tests). */
export interface Upstream {
  /** The upstream's reply to a raw query, or undefined when none answered. */
  forward(query: Buffer, transport: Transport): Promise<Buffer | undefined>;
  /** Resolves one name (the target of an ExternalName's CNAME); undefined when none answered. */
  lookup(name: string, type: RecordType): Promise<DecodedPacket | undefined>;
}

export interface ForwarderOptions {
  /** How long one upstream has to answer before the next is tried. */
  timeoutMs?: number;
  /** Forwarded queries waiting at once; beyond this a query fails at once (SERVFAIL). */
  maxInFlight?: number;
  log?: (line: string) => void;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 1_500;
const DEFAULT_MAX_IN_FLIGHT = 1_000;

/** The `nameserver` lines of a resolv.conf, on port 53. */
export function parseNameservers(resolvConf: string): UpstreamServer[] {
  const servers: UpstreamServer[] = [];
  for (const raw of resolvConf.split('\n')) {
    const [keyword, address] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (keyword === 'nameserver' && address !== undefined && net.isIP(address.split('%')[0] ?? '') !== 0) servers.push({ address, port: 53 });
  }
  return servers;
}

export class Forwarder implements Upstream {
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private inFlight = 0;
  /** Upstreams whose last attempt failed: logged once when they fail, once when they answer again. */
  private readonly failing = new Set<string>();

  constructor(
    private readonly servers: readonly UpstreamServer[],
    private readonly opts: ForwarderOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  }

  async forward(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (this.inFlight >= this.maxInFlight) return undefined;
    this.inFlight++;
    try {
      for (const server of this.servers) {
        const reply = transport === 'udp' ? await exchangeUdp(server, query, this.timeoutMs) : await exchangeTcp(server, query, this.timeoutMs);
        this.noteOutcome(server, transport, reply !== undefined);
        if (reply !== undefined) return reply;
      }
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  async lookup(name: string, type: RecordType): Promise<DecodedPacket | undefined> {
    const query = dnsPacket.encode({
      type: 'query',
      id: Math.floor(Math.random() * 0x10000),
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name, class: 'IN' }],
    });
    let reply = await this.forward(query, 'udp');
    if (reply !== undefined && (reply.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) !== 0) reply = await this.forward(query, 'tcp');
    if (reply === undefined) return undefined;
    try {
      return dnsPacket.decode(reply);
    } catch {
      return undefined;
    }
  }

  private noteOutcome(server: UpstreamServer, transport: Transport, answered: boolean): void {
    const key = `${server.address}:${server.port}/${transport}`;
    if (answered && this.failing.delete(key)) this.opts.log?.(`dns: upstream ${key} answers again`);
    else if (!answered && !this.failing.has(key)) {
      this.failing.add(key);
      this.opts.log?.(`dns: upstream ${key} did not answer within ${this.timeoutMs} ms (not logged again until it answers)`);
    }
  }
}

/** One query over UDP from a fresh socket (a random source port per query); undefined on timeout. */
export function exchangeUdp(server: UpstreamServer, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(server.address.split('%')[0] ?? '') ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    let done = false;
    const finish = (reply: Buffer | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('message', (message, remote) => {
      // Only the server asked, with the id asked: anything else is stray or spoofed.
      if (message.length >= 12 && message.readUInt16BE(0) === id && remote.port === server.port) finish(message);
    });
    socket.on('error', () => finish(undefined));
    socket.send(query, server.port, server.address, (err) => {
      if (err) finish(undefined);
    });
  });
}

/** One query over a fresh TCP connection; undefined on timeout or a connection failure. */
export function exchangeTcp(server: UpstreamServer, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const id = query.readUInt16BE(0);
    const reader = new TcpMessageReader();
    const socket = net.connect({ host: server.address, port: server.port });
    let done = false;
    const finish = (reply: Buffer | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('connect', () => socket.write(frameTcpMessage(query)));
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) if (message.length >= 12 && message.readUInt16BE(0) === id) return finish(Buffer.from(message));
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}
