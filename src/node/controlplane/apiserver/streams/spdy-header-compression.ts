/**
 * SPDY/3 header-block compression: one zlib stream per direction for the whole session,
 * primed with the SPDY/3 dictionary, each header block ending at a Z_SYNC_FLUSH so that the
 * peer can decode it as soon as its frame arrives. A block can only be decoded after every
 * block before it (they share the zlib window), so calls are queued in order.
 */
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';

type ZlibStream = zlib.Deflate | zlib.Inflate;

/** Feeds one chunk into a long-lived zlib stream and collects exactly what it yields up to a sync flush. */
class SyncFlushedZlib {
  private queue: Promise<unknown> = Promise.resolve();
  private failed: Error | undefined;

  constructor(private readonly stream: ZlibStream) {
    // An error (a corrupt block from the peer) ends the session; remember it for the next call.
    stream.on('error', (err: Error) => {
      this.failed = err;
    });
  }

  run(input: Buffer): Promise<Buffer> {
    const next = this.queue.then(() => this.process(input));
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.stream.close();
  }

  private process(input: Buffer): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Buffer>((resolve, reject) => {
      const output: Buffer[] = [];
      const onData = (chunk: Buffer) => output.push(chunk);
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        this.stream.off('data', onData);
        this.stream.off('error', onError);
      };
      this.stream.on('data', onData);
      this.stream.once('error', onError);
      this.stream.write(input);
      // zlib emits the output of a write before the flush behind it completes.
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        cleanup();
        if (this.failed) reject(this.failed);
        else resolve(Buffer.concat(output));
      });
    });
  }
}

export class HeaderCompressor {
  private readonly zlib = new SyncFlushedZlib(zlib.createDeflate({ dictionary: SPDY3_DICTIONARY, level: zlib.constants.Z_BEST_COMPRESSION }));

  /** The compressed form of one uncompressed header block (see encodeHeaderBlock). */
  compress(block: Buffer): Promise<Buffer> {
    return this.zlib.run(block);
  }

  close(): void {
    this.zlib.close();
  }
}

export class HeaderDecompressor {
  private readonly zlib = new SyncFlushedZlib(zlib.createInflate({ dictionary: SPDY3_DICTIONARY }));

  /** The uncompressed header block of one frame, given the frames before it were decompressed first. */
  decompress(compressed: Buffer): Promise<Buffer> {
    return this.zlib.run(compressed);
  }

  close(): void {
    this.zlib.close();
  }
}
