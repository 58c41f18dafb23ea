/**
 * A minimal ustar writer, enough to hand dockerd a root filesystem to import (the pause image)
 * without any tar dependency.
 */

export interface TarEntry {
  /** Relative path without a leading slash; directories end with '/'. */
  path: string;
  /** File content (files only). */
  content?: Buffer;
  mode: number;
}

const BLOCK = 512;

export function createTar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const isDir = entry.path.endsWith('/');
    const content = isDir ? Buffer.alloc(0) : (entry.content ?? Buffer.alloc(0));
    blocks.push(header(entry.path, entry.mode, content.length, isDir));
    if (content.length > 0) {
      blocks.push(content);
      const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
      if (padding > 0) blocks.push(Buffer.alloc(padding));
    }
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(blocks);
}

function header(path: string, mode: number, size: number, isDir: boolean): Buffer {
  if (Buffer.byteLength(path) > 100) throw new Error(`tar: path too long for a plain ustar header: ${path}`);
  const block = Buffer.alloc(BLOCK);
  block.write(path, 0, 100, 'utf8');
  writeOctal(block, 100, 8, mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, 0); // mtime: fixed, so the image is the same every time
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  block.write(isDir ? '5' : '0', 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write('root', 265, 32, 'ascii');
  block.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}
