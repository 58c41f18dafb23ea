/**
 * exec/attach for SPDY clients (kubectl 1.20-1.29, and newer ones when WebSockets fail): the
 * client opens one SPDY stream per role (streamType error, stdin, stdout, stderr, resize);
 * they are translated to and from the agent's v5 channels. The agent's final Status goes
 * onto the error stream as JSON (v4, so kubectl exits with the command's code) or as the
 * plain message (older protocols: empty on success).
 */
import type { Status } from 'kubernetes-types/meta/v1.js';
import { Channel, decodeChannelMessage, encodeChannelMessage, encodeCloseMessage, failureStatus, legacyErrorText, parseStatus, V4_CHANNEL_PROTOCOL } from './channels.js';
import type { AgentChannelStream } from './kubelet-client.js';
import type { SpdySession, SpdyStream } from './spdy-session.js';
import type { ExecOptions } from './stream-options.js';
import { finishSession } from './upgrade.js';

/** The remote-command protocols served over SPDY, preferred first (v5 is WebSocket-only). */
export const SPDY_EXEC_PROTOCOLS = [V4_CHANNEL_PROTOCOL, 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** How long the client has to open its streams after the upgrade (the kubelet's stream creation timeout). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

type StreamRole = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** The streams a client of this protocol opens for these options (kube's remotecommand server). */
export function expectedStreams(protocol: string, opts: Pick<ExecOptions, 'stdin' | 'stdout' | 'stderr' | 'tty'>): Set<StreamRole> {
  const roles = new Set<StreamRole>(['error']);
  if (opts.stdin) roles.add('stdin');
  if (opts.stdout) roles.add('stdout');
  const legacy = protocol === 'channel.k8s.io' || protocol === 'v2.channel.k8s.io';
  if (opts.stderr && (!opts.tty || protocol === 'channel.k8s.io')) roles.add('stderr');
  if (opts.tty && !legacy) roles.add('resize');
  return roles;
}

export function translateSpdyExec(
  session: SpdySession,
  protocol: string,
  opts: ExecOptions,
  agent: AgentChannelStream,
  log: (line: string) => void,
): void {
  new SpdyExecTranslation(session, protocol, opts, agent, log);
}

class SpdyExecTranslation {
  private readonly streams = new Map<StreamRole, SpdyStream>();
  private readonly expected: Set<StreamRole>;
  private ready = false;
  /** Agent messages that arrived before the client had opened its streams. */
  private readonly early: Buffer[] = [];
  private status: Status | undefined;
  private agentClosed = false;
  private finished = false;
  private readonly creationTimer: NodeJS.Timeout;

  constructor(
    private readonly session: SpdySession,
    private readonly protocol: string,
    opts: ExecOptions,
    private readonly agent: AgentChannelStream,
    private readonly log: (line: string) => void,
  ) {
    this.expected = expectedStreams(protocol, opts);
    this.creationTimer = setTimeout(() => this.abandon('timed out waiting for the client to create streams'), STREAM_CREATION_TIMEOUT_MS);
    session.on('stream', (stream) => this.onClientStream(stream));
    session.on('close', () => this.onClientGone());
    agent.onMessage((message) => {
      if (this.ready) this.fromAgent(message);
      else this.early.push(message);
    });
    agent.onClose(() => {
      this.agentClosed = true;
      if (this.ready) this.finish();
    });
  }

  private onClientStream(stream: SpdyStream): void {
    const role = stream.header('streamType') as StreamRole | undefined;
    if (!role || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(role) || this.streams.has(role)) {
      this.log(`exec: unexpected stream type ${JSON.stringify(role)}`);
      stream.destroy();
      return;
    }
    this.streams.set(role, stream);
    stream.on('error', () => undefined);
    if (role === 'stdin') this.forwardStdin(stream);
    else if (role === 'resize') this.forwardResizes(stream);
    else stream.resume(); // the client sends nothing on these

    if (!this.ready && [...this.expected].every((r) => this.streams.has(r))) {
      this.ready = true;
      clearTimeout(this.creationTimer);
      for (const message of this.early.splice(0)) this.fromAgent(message);
      if (this.agentClosed) this.finish();
    }
  }

  private forwardStdin(stream: SpdyStream): void {
    stream.on('data', (chunk: Buffer) => this.sendToAgent(encodeChannelMessage(Channel.STDIN, chunk)));
    stream.on('end', () => this.sendToAgent(encodeCloseMessage(Channel.STDIN)));
  }

  /** The client writes one JSON object per resize, newline-terminated; the agent wants one per message. */
  private forwardResizes(stream: SpdyStream): void {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') this.sendToAgent(encodeChannelMessage(Channel.RESIZE, line));
      }
    });
  }

  private sendToAgent(message: Buffer): void {
    this.agent.send(message);
  }

  private fromAgent(message: Buffer): void {
    const decoded = decodeChannelMessage(message);
    if (!decoded) return;
    if (decoded.kind === 'close') {
      if (decoded.channel === Channel.STDOUT) endStream(this.streams.get('stdout'));
      if (decoded.channel === Channel.STDERR) endStream(this.streams.get('stderr'));
      return;
    }
    switch (decoded.channel) {
      case Channel.STDOUT:
        writeStream(this.streams.get('stdout'), decoded.data);
        return;
      case Channel.STDERR:
        writeStream(this.streams.get('stderr'), decoded.data);
        return;
      case Channel.ERROR:
        this.status = parseStatus(decoded.data);
        return;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    endStream(this.streams.get('stdout'));
    endStream(this.streams.get('stderr'));
    const status = this.status ?? failureStatus('error executing command in container: the connection to the node agent was lost');
    const errorStream = this.streams.get('error');
    const text = this.protocol === V4_CHANNEL_PROTOCOL ? JSON.stringify(status) : legacyErrorText(status);
    if (text !== '') writeStream(errorStream, Buffer.from(text, 'utf8'));
    endStream(errorStream);
    finishSession(this.session);
  }

  private abandon(why: string): void {
    this.log(`exec: ${why}`);
    this.agent.close();
    void this.session.close();
  }

  private onClientGone(): void {
    clearTimeout(this.creationTimer);
    this.agent.close();
  }
}

function writeStream(stream: SpdyStream | undefined, data: Buffer): void {
  if (stream && stream.writable && !stream.destroyed) stream.write(data);
}

function endStream(stream: SpdyStream | undefined): void {
  if (stream && stream.writable && !stream.destroyed) stream.end();
}
