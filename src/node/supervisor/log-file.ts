import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

/**
 * An append-only log file that moves itself to `<file>.1` (replacing an older one) before it
 * would grow past `maxBytes`. Writes are synchronous: daemon output is small, ordering stays
 * exact, and nothing is lost when the supervisor exits. A failing write (full disk) is dropped
 * rather than taking the supervisor down.
 */
export class RotatingLogFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly file: string,
    readonly maxBytes: number = LOG_ROTATE_BYTES,
  ) {}

  write(data: Buffer | string): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate();
      let offset = 0;
      while (offset < buf.length) offset += writeSync(this.fd!, buf, offset);
      this.size += buf.length;
    } catch {
      // dropped: see above
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already gone
      }
      this.fd = undefined;
    }
  }

  private open(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}
