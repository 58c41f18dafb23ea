/** SPDY/3.1 framing, header compression and sessions, without kubectl. */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../../src/node/controlplane/apiserver/streams/spdy-dictionary.js';
import {
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  FLAG_FIN,
  FrameSplitter,
  headerBlockOffset,
  parseControlFrame,
  type RawFrame,
} from '../../src/node/controlplane/apiserver/streams/spdy-frames.js';
import { HeaderCompressor, HeaderDecompressor } from '../../src/node/controlplane/apiserver/streams/spdy-header-compression.js';
import { SpdySession, type SpdyStream } from '../../src/node/controlplane/apiserver/streams/spdy-session.js';

/** What kubectl 1.27 sent after `exec ... -- echo hi` was upgraded: SYN_STREAMs for error, stdout, stderr. */
const KUBECTL_SYN_STREAMS = Buffer.from(
  '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff' +
    '800300010000001900000003000000000000c22ac5565c92925f5a02000000ffff' +
    '800300010000001500000005000000000000c229975a5404000000ffff',
  'hex',
);

async function decodeAll(frames: RawFrame[], decompressor: HeaderDecompressor) {
  const out = [];
  for (const raw of frames) {
    if (!raw.control) {
      out.push({ type: 'DATA', streamId: raw.streamId, flags: raw.flags, data: raw.data });
      continue;
    }
    const offset = headerBlockOffset(raw.type);
    const headers = offset === undefined ? undefined : decodeHeaderBlock(await decompressor.decompress(raw.payload.subarray(offset)));
    out.push(parseControlFrame(raw, headers));
  }
  return out;
}

describe('SPDY/3 dictionary', () => {
  it('is the spec\'s 1423 bytes, whose Adler-32 is the id kubectl puts in its zlib header', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    // kubectl's first header block starts 78 f9 e3 c6 a7 c2: zlib with a preset dictionary of id e3c6a7c2.
    const inflate = zlib.inflateSync(Buffer.from('78f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff', 'hex'), {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    expect(decodeHeaderBlock(inflate)).toEqual({ streamtype: ['error'] });
  });
});

describe('frames', () => {
  it('reads the SYN_STREAMs real kubectl sends (header-only, compressed across frames)', async () => {
    const frames = new FrameSplitter().push(KUBECTL_SYN_STREAMS);
    const decoded = await decodeAll(frames, new HeaderDecompressor());
    expect(decoded).toEqual([
      { type: 'SYN_STREAM', streamId: 1, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['error'] } },
      { type: 'SYN_STREAM', streamId: 3, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['stdout'] } },
      { type: 'SYN_STREAM', streamId: 5, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['stderr'] } },
    ]);
  });

  it('cuts a byte stream into frames whatever the chunk boundaries', async () => {
    const compressor = new HeaderCompressor();
    const bytes = Buffer.concat([
      encodeSynStream(1, 0, await compressor.compress(encodeHeaderBlock({ streamtype: ['data'], port: ['8080'], requestid: ['0'] }))),
      encodeSynReply(2, FLAG_FIN, await compressor.compress(encodeHeaderBlock({}))),
      encodeData(1, Buffer.from('hello')),
      encodeData(1, Buffer.alloc(0), FLAG_FIN),
      encodeRstStream(3, 5),
      encodeSettings([{ id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }]),
      encodePing(7),
      encodeWindowUpdate(1, 4096),
      encodeGoAway(5, 0),
    ]);
    for (const chunkSize of [1, 3, 7, 64, bytes.length]) {
      const splitter = new FrameSplitter();
      const frames: RawFrame[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize) frames.push(...splitter.push(bytes.subarray(i, i + chunkSize)));
      const decoded = await decodeAll(frames, new HeaderDecompressor());
      expect(decoded).toEqual([
        { type: 'SYN_STREAM', streamId: 1, associatedId: 0, priority: 0, flags: 0, headers: { streamtype: ['data'], port: ['8080'], requestid: ['0'] } },
        { type: 'SYN_REPLY', streamId: 2, flags: FLAG_FIN, headers: {} },
        { type: 'DATA', streamId: 1, flags: 0, data: Buffer.from('hello') },
        { type: 'DATA', streamId: 1, flags: FLAG_FIN, data: Buffer.alloc(0) },
        { type: 'RST_STREAM', streamId: 3, status: 5 },
        { type: 'SETTINGS', flags: 0, settings: [{ flags: 0, id: 7, value: 65536 }, { flags: 1, id: 4, value: 100 }] },
        { type: 'PING', id: 7 },
        { type: 'WINDOW_UPDATE', streamId: 1, delta: 4096 },
        { type: 'GOAWAY', lastGoodStreamId: 5, status: 0 },
      ]);
    }
  });

  it('writes control frames as version 3 with the control bit, 24-bit lengths', () => {
    const ping = encodePing(0x01020304);
    expect(ping.toString('hex')).toBe('80030006' + '00000004' + '01020304');
    const data = encodeData(0x7fffffff, Buffer.from('ab'), FLAG_FIN);
    expect(data.toString('hex')).toBe('7fffffff' + '01000002' + '6162');
  });

  it('keeps several values of one header, NUL-separated on the wire', () => {
    const block = encodeHeaderBlock({ 'X-Things': ['a', 'b'] });
    expect(block.includes(Buffer.from('a\0b'))).toBe(true);
    expect(decodeHeaderBlock(block)).toEqual({ 'x-things': ['a', 'b'] });
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(/truncated/);
  });
});

describe('header compression', () => {
  it('shares one zlib context per direction: later blocks use what earlier ones taught it', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    const block = encodeHeaderBlock({ streamtype: ['stdout'], 'a-rather-long-header-name': ['with a rather long value that repeats'] });
    const first = await compressor.compress(block);
    const second = await compressor.compress(block);
    expect(second.length).toBeLessThan(first.length);
    // Each ends at a sync flush, so the peer can decode it on arrival.
    expect(first.subarray(-4).toString('hex')).toBe('0000ffff');
    expect(await decompressor.decompress(first)).toEqual(block);
    expect(await decompressor.decompress(second)).toEqual(block);
  });

  it('a block cannot be read without the ones before it', async () => {
    const compressor = new HeaderCompressor();
    const block = encodeHeaderBlock({ streamtype: ['stdout'], other: ['value value value'] });
    await compressor.compress(block);
    const second = await compressor.compress(block);
    await expect(new HeaderDecompressor().decompress(second)).rejects.toThrow();
  });

  it('keeps order under many concurrent calls', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    const blocks = Array.from({ length: 200 }, (_, i) => encodeHeaderBlock({ streamtype: ['data'], requestid: [String(i)] }));
    const compressed = await Promise.all(blocks.map((b) => compressor.compress(b)));
    const restored = await Promise.all(compressed.map((c) => decompressor.decompress(c)));
    expect(restored).toEqual(blocks);
  });
});

/** A client and a server session joined back to back in memory. */
function sessionPair() {
  let server!: SpdySession;
  let client!: SpdySession;
  const written: { toServer: Buffer[]; toClient: Buffer[] } = { toServer: [], toClient: [] };
  let serverClosed = false;
  let clientClosed = false;
  const closeBoth = () => {
    setImmediate(() => {
      if (!serverClosed) {
        serverClosed = true;
        server.transportClosed();
      }
      if (!clientClosed) {
        clientClosed = true;
        client.transportClosed();
      }
    });
  };
  server = new SpdySession(
    {
      write: (bytes) => {
        written.toClient.push(bytes);
        setImmediate(() => client.receive(bytes));
      },
      close: closeBoth,
    },
    { role: 'server' },
  );
  client = new SpdySession(
    {
      write: (bytes) => {
        written.toServer.push(bytes);
        setImmediate(() => server.receive(bytes));
      },
      close: closeBoth,
    },
    { role: 'client' },
  );
  return { server, client, written };
}

function readAll(stream: SpdyStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

describe('sessions', () => {
  it('a stream the client opens is answered with a SYN_REPLY and carries data both ways, FIN half-closing', async () => {
    const { server, client } = sessionPair();
    const accepted = new Promise<SpdyStream>((resolve) => server.on('stream', resolve));
    const clientStream = await client.openStream({ streamtype: ['data'], port: ['80'] });
    const serverStream = await accepted;
    expect(serverStream.id).toBe(1);
    expect(serverStream.header('streamType')).toBe('data');
    expect(serverStream.header('Port')).toBe('80');

    const serverReads = readAll(serverStream);
    clientStream.end('ping from client');
    expect(await serverReads).toBe('ping from client');
    // The server's half is still open after the client's FIN.
    const clientReads = readAll(clientStream);
    serverStream.write(Buffer.alloc(100_000, 'x'));
    serverStream.end('!');
    const received = await clientReads;
    expect(received.length).toBe(100_001);
    expect(received.endsWith('x!')).toBe(true);
  });

  it('RST_STREAM from the peer resets the stream on the other side', async () => {
    const { server, client } = sessionPair();
    const accepted = new Promise<SpdyStream>((resolve) => server.on('stream', resolve));
    const clientStream = await client.openStream({ streamtype: ['error'] });
    const serverStream = await accepted;
    const reset = new Promise<number>((resolve) => serverStream.on('reset', resolve));
    clientStream.destroy();
    expect(await reset).toBe(5);
    expect(serverStream.wasReset).toBe(true);
  });

  it('answers the client\'s PINGs and gets its own back', async () => {
    const { server, client, written } = sessionPair();
    await client.ping();
    await server.ping();
    const pings = written.toClient.filter((b) => b.readUInt16BE(2) === 6).map((b) => b.readUInt32BE(8));
    expect(pings).toEqual([1, 2]); // the echo of the client's ping 1, then the server's own (even) ping
  });

  it('refuses streams with ids the peer may not use', async () => {
    const { server, written } = sessionPair();
    const compressor = new HeaderCompressor();
    const opened: SpdyStream[] = [];
    server.on('stream', (s) => opened.push(s));
    // An even id comes from the server's own space.
    server.receive(encodeSynStream(2, 0, await compressor.compress(encodeHeaderBlock({ streamtype: ['x'] }))));
    await new Promise((r) => setTimeout(r, 20));
    expect(opened).toHaveLength(0);
    const rst = written.toClient.find((b) => b.readUInt16BE(2) === 3);
    expect(rst?.readUInt32BE(8)).toBe(2);
    expect(rst?.readUInt32BE(12)).toBe(1); // PROTOCOL_ERROR
  });

  it('ends every stream when the transport goes', async () => {
    const { server, client } = sessionPair();
    const accepted = new Promise<SpdyStream>((resolve) => server.on('stream', resolve));
    await client.openStream({ streamtype: ['data'] });
    const serverStream = await accepted;
    const ended = readAll(serverStream);
    const closed = new Promise<void>((resolve) => server.on('close', resolve));
    await server.close();
    await closed;
    expect(await ended).toBe('');
    expect(serverStream.destroyed).toBe(true);
  });
});
