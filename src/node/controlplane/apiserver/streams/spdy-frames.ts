/**
 * SPDY/3.1 framing (SPDY protocol draft 3.1): splitting a byte stream into frames, and the
 * frames' binary layout. Header blocks are handled here uncompressed; their zlib compression
 * is spdy-header-compression.ts, and the session (who talks to whom) is spdy-session.ts.
 *
 * Why not a library: `spdy-transport`, the maintained-looking SPDY package for Node, refuses
 * a SYN_STREAM without the HTTP pseudo-headers `:method` and `:path`, and kubectl's streams
 * (moby/spdystream) carry only their own headers (streamType, port, requestID). The subset
 * kubectl uses is small, so it is written here.
 */

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

/** FLAG_FIN on DATA, SYN_STREAM, SYN_REPLY and HEADERS: the sender's half of the stream ends. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL on SYN_STREAM: the receiver must not send on the stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
} as const;

/** Header names (lower case) to their values; SPDY joins several values of one name with NUL. */
export type SpdyHeaders = Record<string, string[]>;

export type SpdyFrame =
  | { type: 'SYN_STREAM'; streamId: number; associatedId: number; priority: number; flags: number; headers: SpdyHeaders }
  | { type: 'SYN_REPLY'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'HEADERS'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'RST_STREAM'; streamId: number; status: number }
  | { type: 'SETTINGS'; flags: number; settings: Array<{ flags: number; id: number; value: number }> }
  | { type: 'PING'; id: number }
  | { type: 'GOAWAY'; lastGoodStreamId: number; status: number }
  | { type: 'WINDOW_UPDATE'; streamId: number; delta: number }
  | { type: 'DATA'; streamId: number; flags: number; data: Buffer };

export type HeaderFrame = Extract<SpdyFrame, { headers: SpdyHeaders }>;

/** One frame as it came off the wire: control frames keep their payload, header blocks still compressed. */
export type RawFrame =
  | { control: true; version: number; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

export class SpdyProtocolError extends Error {
  override name = 'SpdyProtocolError';
}

const FRAME_HEADER_BYTES = 8;
/** Frame lengths are 24 bits. */
export const MAX_FRAME_PAYLOAD = 0xffffff;
const STREAM_ID_MASK = 0x7fffffff;

/** Cuts a byte stream into frames; bytes of an unfinished frame wait for the next chunk. */
export class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: RawFrame[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= FRAME_HEADER_BYTES) {
      const first = this.buffered.readUInt32BE(offset);
      const flags = this.buffered.readUInt8(offset + 4);
      const length = this.buffered.readUIntBE(offset + 5, 3);
      const end = offset + FRAME_HEADER_BYTES + length;
      if (this.buffered.length < end) break;
      const body = Buffer.from(this.buffered.subarray(offset + FRAME_HEADER_BYTES, end));
      if ((first & 0x80000000) !== 0) {
        frames.push({ control: true, version: (first >>> 16) & 0x7fff, type: first & 0xffff, flags, payload: body });
      } else {
        frames.push({ control: false, streamId: first & STREAM_ID_MASK, flags, data: body });
      }
      offset = end;
    }
    this.buffered = this.buffered.subarray(offset);
    return frames;
  }
}

/** What a control frame carries apart from its header block (which the caller decompresses). */
export function parseControlFrame(raw: Extract<RawFrame, { control: true }>, headers?: SpdyHeaders): SpdyFrame | undefined {
  const p = raw.payload;
  const need = (bytes: number) => {
    if (p.length < bytes) throw new SpdyProtocolError(`control frame type ${raw.type} too short (${p.length} bytes)`);
  };
  switch (raw.type) {
    case FrameType.SYN_STREAM:
      need(10);
      return {
        type: 'SYN_STREAM',
        streamId: p.readUInt32BE(0) & STREAM_ID_MASK,
        associatedId: p.readUInt32BE(4) & STREAM_ID_MASK,
        priority: p.readUInt8(8) >>> 5,
        flags: raw.flags,
        headers: headers ?? {},
      };
    case FrameType.SYN_REPLY:
      need(4);
      return { type: 'SYN_REPLY', streamId: p.readUInt32BE(0) & STREAM_ID_MASK, flags: raw.flags, headers: headers ?? {} };
    case FrameType.HEADERS:
      need(4);
      return { type: 'HEADERS', streamId: p.readUInt32BE(0) & STREAM_ID_MASK, flags: raw.flags, headers: headers ?? {} };
    case FrameType.RST_STREAM:
      need(8);
      return { type: 'RST_STREAM', streamId: p.readUInt32BE(0) & STREAM_ID_MASK, status: p.readUInt32BE(4) };
    case FrameType.SETTINGS: {
      need(4);
      const count = p.readUInt32BE(0);
      need(4 + count * 8);
      const settings = [];
      for (let i = 0; i < count; i++) {
        const idWord = p.readUInt32BE(4 + i * 8);
        settings.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: p.readUInt32BE(8 + i * 8) });
      }
      return { type: 'SETTINGS', flags: raw.flags, settings };
    }
    case FrameType.PING:
      need(4);
      return { type: 'PING', id: p.readUInt32BE(0) };
    case FrameType.GOAWAY:
      need(4);
      return { type: 'GOAWAY', lastGoodStreamId: p.readUInt32BE(0) & STREAM_ID_MASK, status: p.length >= 8 ? p.readUInt32BE(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      need(8);
      return { type: 'WINDOW_UPDATE', streamId: p.readUInt32BE(0) & STREAM_ID_MASK, delta: p.readUInt32BE(4) & STREAM_ID_MASK };
    default:
      // Unknown control frames are ignored, as the spec asks.
      return undefined;
  }
}

/** Where the compressed header block starts in a control frame's payload (undefined: it has none). */
export function headerBlockOffset(type: number): number | undefined {
  switch (type) {
    case FrameType.SYN_STREAM:
      return 10;
    case FrameType.SYN_REPLY:
    case FrameType.HEADERS:
      return 4;
    default:
      return undefined;
  }
}

/** The uncompressed name/value block: count, then length-prefixed names and NUL-joined values. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [uint32(entries.length)];
  for (const [name, values] of entries) {
    const nameBytes = Buffer.from(name.toLowerCase(), 'utf8');
    const valueBytes = Buffer.from(values.join('\0'), 'utf8');
    parts.push(uint32(nameBytes.length), nameBytes, uint32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  let offset = 0;
  const read = (): Buffer => {
    if (offset + 4 > block.length) throw new SpdyProtocolError('header block truncated');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new SpdyProtocolError('header block truncated');
    const bytes = block.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
  if (block.length < 4) throw new SpdyProtocolError('header block truncated');
  const count = block.readUInt32BE(0);
  offset = 4;
  const headers: SpdyHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = read().toString('utf8').toLowerCase();
    const values = read().toString('utf8').split('\0');
    (headers[name] ??= []).push(...values);
  }
  return headers;
}

/** First value of a header, names compared case-insensitively (as Go's http.Header.Get does). */
export function headerValue(headers: SpdyHeaders, name: string): string | undefined {
  return headers[name.toLowerCase()]?.[0];
}

// ---------------------------------------------------------------------------------------------
// Encoding (header blocks passed in already compressed)
// ---------------------------------------------------------------------------------------------

function uint32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`control frame too large (${payload.length} bytes)`);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

export function encodeData(streamId: number, data: Buffer, flags = 0): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new SpdyProtocolError(`data frame too large (${data.length} bytes)`);
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

export function encodeSynStream(streamId: number, flags: number, compressedHeaders: Buffer, associatedId = 0, priority = 0): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & STREAM_ID_MASK, 0);
  fixed.writeUInt32BE(associatedId & STREAM_ID_MASK, 4);
  fixed.writeUInt8((priority & 0x7) << 5, 8);
  return controlFrame(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, compressedHeaders]));
}

export function encodeSynReply(streamId: number, flags: number, compressedHeaders: Buffer): Buffer {
  return controlFrame(FrameType.SYN_REPLY, flags, Buffer.concat([uint32(streamId & STREAM_ID_MASK), compressedHeaders]));
}

export function encodeHeaders(streamId: number, flags: number, compressedHeaders: Buffer): Buffer {
  return controlFrame(FrameType.HEADERS, flags, Buffer.concat([uint32(streamId & STREAM_ID_MASK), compressedHeaders]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(FrameType.RST_STREAM, 0, Buffer.concat([uint32(streamId & STREAM_ID_MASK), uint32(status)]));
}

export function encodeSettings(settings: Array<{ flags?: number; id: number; value: number }>, flags = 0): Buffer {
  const parts = [uint32(settings.length)];
  for (const s of settings) parts.push(uint32((((s.flags ?? 0) & 0xff) << 24) | (s.id & 0xffffff)), uint32(s.value));
  return controlFrame(FrameType.SETTINGS, flags, Buffer.concat(parts));
}

export function encodePing(id: number): Buffer {
  return controlFrame(FrameType.PING, 0, uint32(id));
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  return controlFrame(FrameType.GOAWAY, 0, Buffer.concat([uint32(lastGoodStreamId & STREAM_ID_MASK), uint32(status)]));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return controlFrame(FrameType.WINDOW_UPDATE, 0, Buffer.concat([uint32(streamId & STREAM_ID_MASK), uint32(delta & STREAM_ID_MASK)]));
}
