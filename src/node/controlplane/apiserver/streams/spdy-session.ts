/**
 * A SPDY/3.1 session over any byte transport (an upgraded HTTP connection, or the binary
 * messages of a WebSocket), as moby/spdystream — the SPDY of kubectl and the kubelet —
 * speaks it: the peer opens streams with header-only SYN_STREAMs, each is answered with a
 * SYN_REPLY, data flows in DATA frames, FIN half-closes, RST_STREAM aborts, PINGs are echoed.
 *
 * Flow control is not enforced: spdystream neither sends WINDOW_UPDATE nor honours windows,
 * so SETTINGS and WINDOW_UPDATE are accepted and ignored.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameSplitter,
  headerBlockOffset,
  parseControlFrame,
  RstStatus,
  SpdyProtocolError,
  type RawFrame,
  type SpdyFrame,
  type SpdyHeaders,
} from './spdy-frames.js';
import { HeaderCompressor, HeaderDecompressor } from './spdy-header-compression.js';

/** Where the session's bytes go. */
export interface SpdyTransport {
  write(bytes: Buffer): void;
  /** Ends the underlying connection (after what was written). */
  close(): void;
}

export interface SpdySessionOptions {
  /** The server answers streams the client opens (odd ids); a client opens them. */
  role: 'server' | 'client';
  log?: (line: string) => void;
}

/** Data frames are cut to this size: well under SPDY's 16 MiB, like Go's 32 KiB copy buffers. */
const MAX_DATA_CHUNK = 32 * 1024;

export declare interface SpdySession {
  on(event: 'stream', listener: (stream: SpdyStream) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'goaway', listener: () => void): this;
}

export class SpdySession extends EventEmitter {
  private readonly splitter = new FrameSplitter();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  /** Incoming frames are handled one after the other: header blocks decompress in order. */
  private incoming: Promise<void> = Promise.resolve();
  /** Outgoing frames leave in the order they were queued (a SYN_REPLY before the stream's data). */
  private outgoing: Promise<void> = Promise.resolve();
  private nextStreamId: number;
  private nextPingId: number;
  private lastReceivedStreamId = 0;
  private readonly pendingPings = new Map<number, () => void>();
  private closed = false;
  private goneAway = false;

  constructor(
    private readonly transport: SpdyTransport,
    private readonly options: SpdySessionOptions,
  ) {
    super();
    this.nextStreamId = options.role === 'client' ? 1 : 2;
    this.nextPingId = options.role === 'client' ? 1 : 2;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes from the transport. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: RawFrame[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const raw of frames) {
      this.incoming = this.incoming.then(() => this.handleRaw(raw)).catch((err: unknown) => this.fail(err));
    }
  }

  /** The transport is gone: every stream ends with it. */
  transportClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) stream.abortedBySession();
    this.streams.clear();
    for (const resolve of this.pendingPings.values()) resolve();
    this.pendingPings.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close');
  }

  /** GOAWAY, then the transport is closed once what was queued has been written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.goneAway = true;
    this.enqueue(() => encodeGoAway(this.lastReceivedStreamId, 0));
    await this.outgoing;
    this.transport.close();
  }

  /** Client role: opens a stream and waits for the peer's SYN_REPLY. */
  async openStream(headers: SpdyHeaders, options: { fin?: boolean } = {}): Promise<SpdyStream> {
    if (this.closed || this.goneAway) throw new Error('SPDY session is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if (options.fin) stream.localFinished();
    const block = encodeHeaderBlock(headers);
    this.enqueueAsync(async () => encodeSynStream(id, options.fin ? FLAG_FIN : 0, await this.compressor.compress(block)));
    await stream.replied;
    return stream;
  }

  /** Sends a PING and resolves when it comes back (or the session ends). */
  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    return new Promise<void>((resolve) => {
      this.pendingPings.set(id, resolve);
      this.enqueue(() => encodePing(id));
    });
  }

  // ---- used by SpdyStream ----

  sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    if (data.length === 0) {
      if (fin) this.enqueue(() => encodeData(streamId, Buffer.alloc(0), FLAG_FIN));
      return this.outgoing;
    }
    for (let offset = 0; offset < data.length; offset += MAX_DATA_CHUNK) {
      const piece = data.subarray(offset, offset + MAX_DATA_CHUNK);
      const last = offset + MAX_DATA_CHUNK >= data.length;
      this.enqueue(() => encodeData(streamId, piece, fin && last ? FLAG_FIN : 0));
    }
    return this.outgoing;
  }

  sendReset(streamId: number, status: number): void {
    this.enqueue(() => encodeRstStream(streamId, status));
  }

  forget(streamId: number): void {
    this.streams.delete(streamId);
  }

  // ---- frames in ----

  private async handleRaw(raw: RawFrame): Promise<void> {
    if (this.closed) return;
    if (!raw.control) {
      this.handleFrame({ type: 'DATA', streamId: raw.streamId, flags: raw.flags, data: raw.data });
      return;
    }
    const offset = headerBlockOffset(raw.type);
    let headers: SpdyHeaders | undefined;
    if (offset !== undefined) {
      if (raw.payload.length < offset) throw new SpdyProtocolError(`control frame type ${raw.type} too short`);
      const block = await this.decompressor.decompress(raw.payload.subarray(offset));
      headers = decodeHeaderBlock(block);
    }
    const frame = parseControlFrame(raw, headers);
    if (frame) this.handleFrame(frame);
  }

  private handleFrame(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'SYN_STREAM':
        return this.onSynStream(frame);
      case 'SYN_REPLY': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.onReply();
        if (frame.flags & FLAG_FIN) stream.onRemoteFin();
        return;
      }
      case 'HEADERS':
        if (frame.flags & FLAG_FIN) this.streams.get(frame.streamId)?.onRemoteFin();
        return;
      case 'DATA': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (frame.data.length > 0) stream.onData(frame.data);
        if (frame.flags & FLAG_FIN) stream.onRemoteFin();
        return;
      }
      case 'RST_STREAM':
        this.streams.get(frame.streamId)?.onReset(frame.status);
        return;
      case 'PING': {
        const ours = (frame.id & 1) === (this.nextPingId & 1);
        if (ours) {
          this.pendingPings.get(frame.id)?.();
          this.pendingPings.delete(frame.id);
        } else {
          this.enqueue(() => encodePing(frame.id));
        }
        return;
      }
      case 'GOAWAY':
        this.goneAway = true;
        this.emit('goaway');
        return;
      case 'SETTINGS':
      case 'WINDOW_UPDATE':
        return;
    }
  }

  private onSynStream(frame: Extract<SpdyFrame, { type: 'SYN_STREAM' }>): void {
    const fromPeer = this.options.role === 'server' ? frame.streamId % 2 === 1 : frame.streamId % 2 === 0;
    if (!fromPeer || frame.streamId <= this.lastReceivedStreamId || this.streams.has(frame.streamId)) {
      this.sendReset(frame.streamId, RstStatus.PROTOCOL_ERROR);
      return;
    }
    this.lastReceivedStreamId = frame.streamId;
    if (this.goneAway) {
      this.sendReset(frame.streamId, RstStatus.REFUSED_STREAM);
      return;
    }
    const stream = new SpdyStream(this, frame.streamId, frame.headers);
    this.streams.set(frame.streamId, stream);
    // The reply is queued before anything the handler writes on the stream.
    const block = encodeHeaderBlock({});
    this.enqueueAsync(async () => encodeSynReply(frame.streamId, 0, await this.compressor.compress(block)));
    stream.onReply();
    if (frame.flags & FLAG_UNIDIRECTIONAL) stream.localFinished();
    if (frame.flags & FLAG_FIN) stream.onRemoteFin();
    this.emit('stream', stream);
  }

  // ---- frames out ----

  private enqueue(encode: () => Buffer): void {
    this.enqueueAsync(async () => encode());
  }

  private enqueueAsync(encode: () => Promise<Buffer>): void {
    this.outgoing = this.outgoing
      .then(async () => {
        if (this.closed) return;
        this.transport.write(await encode());
      })
      .catch((err: unknown) => this.fail(err));
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.options.log?.(`SPDY session failed: ${err instanceof Error ? err.message : String(err)}`);
    this.transport.close();
    this.transportClosed();
  }
}

/**
 * One SPDY stream as a Node duplex: what the peer sends is readable (ending at its FIN),
 * what is written goes out as DATA frames, end() sends FIN. destroy() before both halves
 * closed resets the stream (RST_STREAM CANCEL); a reset by the peer emits 'reset' and
 * destroys it.
 */
export class SpdyStream extends Duplex {
  readonly replied: Promise<void>;
  private resolveReplied: () => void = () => undefined;
  private rejectReplied: (err: Error) => void = () => undefined;
  private remoteClosed = false;
  private localClosed = false;
  private resetByPeer = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
    this.replied = new Promise<void>((resolve, reject) => {
      this.resolveReplied = resolve;
      this.rejectReplied = reject;
    });
    // A stream reset before its reply rejects openStream(); nobody else waits on it.
    this.replied.catch(() => undefined);
  }

  /** First value of a header (names case-insensitive). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  get wasReset(): boolean {
    return this.resetByPeer;
  }

  override _read(): void {
    // Data is pushed as frames arrive (no flow control to drive).
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.localClosed || this.session.isClosed) {
      callback(new Error('write on a closed SPDY stream'));
      return;
    }
    this.session.sendData(this.id, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localClosed || this.session.isClosed) {
      callback();
      return;
    }
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true).then(() => {
      this.maybeForget();
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.resetByPeer && !(this.localClosed && this.remoteClosed) && !this.session.isClosed) {
      this.session.sendReset(this.id, RstStatus.CANCEL);
    }
    this.localClosed = true;
    this.remoteClosed = true;
    this.session.forget(this.id);
    callback(error);
  }

  // ---- called by the session ----

  onReply(): void {
    this.resolveReplied();
  }

  onData(data: Buffer): void {
    if (!this.remoteClosed) this.push(data);
  }

  onRemoteFin(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.push(null);
    this.maybeForget();
  }

  onReset(status: number): void {
    this.resetByPeer = true;
    this.rejectReplied(new Error(`SPDY stream ${this.id} reset by peer (status ${status})`));
    this.emit('reset', status);
    this.destroy();
  }

  localFinished(): void {
    this.localClosed = true;
  }

  abortedBySession(): void {
    this.resetByPeer = true;
    this.rejectReplied(new Error('SPDY session closed'));
    if (!this.remoteClosed) {
      this.remoteClosed = true;
      this.push(null);
    }
    this.destroy();
  }

  private maybeForget(): void {
    if (this.localClosed && this.remoteClosed) this.session.forget(this.id);
  }
}
