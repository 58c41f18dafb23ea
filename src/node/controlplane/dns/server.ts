/**
 * The DNS daemon's listeners: UDP and TCP on the same port. Each query is answered from the
 * cluster zone (SERVFAIL until the zone is known), or forwarded upstream when the name is not
 * the cluster's, so those never depend on the API server. UDP answers are cut to the size the
 * client can take, with TC set, so that resolvers retry over TCP.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import type { Transport, Upstream } from './forwarder.js';
import { resolve, type Resolution, type Zone } from './records.js';
import {
  RCODES,
  buildResponse,
  decodeQuery,
  encodeWithinLimit,
  fitRawWithinLimit,
  frameTcpMessage,
  rcodeOf,
  serverFailure,
  TcpMessageReader,
  udpPayloadLimit,
  type ResponseCode,
} from './wire.js';

export interface DnsServerOptions {
  /** 0.0.0.0 unless told. */
  host?: string;
  /** 53 in the node; 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  /** The cluster zone now, undefined until Services and Endpoints are known. */
  zone: () => Zone | undefined;
  upstream: Upstream;
  log: (line: string) => void;
  /** A TCP connection with no query for this long is closed (RFC 7766 suggests seconds). */
  tcpIdleTimeoutMs?: number;
}

/** Where the daemon listens in a control-plane node; the kube-dns Service's Endpoints point here. */
export const DNS_PORT = 53;
const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
/** Attempts at finding a port free for both UDP and TCP when asked for port 0. */
const RANDOM_PORT_ATTEMPTS = 10;

export class DnsServer {
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds UDP and TCP; resolves with the port. */
  async listen(): Promise<number> {
    const host = this.opts.host ?? '0.0.0.0';
    for (let attempt = 1; ; attempt++) {
      const udp = await bindUdp(host, this.opts.port);
      const port = udp.address().port;
      try {
        this.tcp = await listenTcp(host, port, (socket) => this.serveTcp(socket));
      } catch (err) {
        udp.close();
        const retry = this.opts.port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < RANDOM_PORT_ATTEMPTS;
        if (retry) continue;
        throw err;
      }
      this.udp = udp;
      udp.on('message', (message, remote) => this.serveUdp(udp, message, remote));
      udp.on('error', (err) => this.opts.log(`dns: UDP socket error: ${err.message}`));
      return port;
    }
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    const tcp = this.tcp;
    const udp = this.udp;
    this.tcp = undefined;
    this.udp = undefined;
    await Promise.all([
      tcp ? new Promise<void>((done) => tcp.close(() => done())) : undefined,
      udp ? new Promise<void>((done) => udp.close(() => done())) : undefined,
    ]);
  }

  /** The reply to one raw query (undefined: send nothing), encoded for its transport. */
  async answer(raw: Buffer, transport: Transport): Promise<Buffer | undefined> {
    const decoded = decodeQuery(raw);
    if (!decoded.ok) return decoded.reply;
    const { query } = decoded;
    const limit = transport === 'udp' ? udpPayloadLimit(query) : Number.POSITIVE_INFINITY;
    let resolution: Resolution;
    try {
      resolution = resolve(this.opts.zone(), query.questions![0]!);
    } catch (err) {
      // A bug in the zone must cost this query only, not the daemon.
      this.opts.log(`dns: answering ${query.questions![0]!.name} failed: ${(err as Error).message}`);
      return serverFailure(query);
    }
    switch (resolution.kind) {
      case 'forward': {
        const reply = await this.opts.upstream.forward(raw, transport);
        if (reply === undefined) return serverFailure(query);
        return transport === 'udp' ? fitRawWithinLimit(reply, limit) : reply;
      }
      case 'not-synced':
        return serverFailure(query);
      case 'answer': {
        const { rcode, answers } = resolution.chase ? await this.chase(resolution) : { rcode: resolution.rcode, answers: resolution.answers };
        const response = buildResponse(query, { ...resolution, rcode, answers });
        return transport === 'udp' ? encodeWithinLimit(response, limit) : dnsPacket.encode(response);
      }
    }
  }

  /** Follows an ExternalName's CNAME upstream: the answer gets the target's records and rcode. */
  private async chase(resolution: Resolution & { kind: 'answer' }): Promise<{ rcode: ResponseCode; answers: Answer[] }> {
    const target = await this.opts.upstream.lookup(resolution.chase!.name, resolution.chase!.type);
    if (target === undefined) return { rcode: 'NOERROR', answers: resolution.answers };
    const targetRcode = rcodeOf(target.flags ?? 0);
    // A failed upstream does not make the CNAME itself wrong: keep it, NOERROR.
    if (targetRcode !== RCODES.NOERROR && targetRcode !== RCODES.NXDOMAIN) return { rcode: 'NOERROR', answers: resolution.answers };
    // The rcode is the last name's in the chain (RFC 6604): NXDOMAIN when the target does not exist.
    return {
      rcode: targetRcode === RCODES.NXDOMAIN ? 'NXDOMAIN' : 'NOERROR',
      answers: [...resolution.answers, ...(target.answers ?? []).filter((a) => a.type !== 'OPT')],
    };
  }

  private serveUdp(socket: dgram.Socket, message: Buffer, remote: dgram.RemoteInfo): void {
    void this.answer(message, 'udp').then(
      (reply) => {
        if (reply !== undefined && this.udp === socket) socket.send(reply, remote.port, remote.address);
      },
      (err: Error) => this.opts.log(`dns: UDP query failed: ${err.message}`),
    );
  }

  private serveTcp(socket: net.Socket): void {
    this.connections.add(socket);
    const reader = new TcpMessageReader();
    socket.setTimeout(this.opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        // Pipelined queries may be answered out of order (RFC 7766 §6.2.1.1): ids tell them apart.
        void this.answer(Buffer.from(message), 'tcp').then(
          (reply) => {
            if (reply !== undefined && !socket.destroyed) socket.write(frameTcpMessage(reply));
          },
          (err: Error) => this.opts.log(`dns: TCP query failed: ${err.message}`),
        );
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
  }
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((done, fail) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.once('error', fail);
    socket.bind(port, host, () => {
      socket.off('error', fail);
      done(socket);
    });
  });
}

function listenTcp(host: string, port: number, onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  return new Promise((done, fail) => {
    const server = net.createServer(onConnection);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done(server);
    });
  });
}
