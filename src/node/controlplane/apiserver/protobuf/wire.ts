/**
 * Protocol-buffer wire format, read side: tags, varints, fixed 32/64-bit values and
 * length-delimited fields (https://protobuf.dev/programming-guides/encoding/). Kubernetes
 * uses no zigzag (sint) fields and no groups, so neither is read here.
 */

export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** Bytes that are not a well-formed protobuf message. */
export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

export interface Tag {
  field: number;
  wireType: WireType;
}

export class WireReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  tag(): Tag {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new WireFormatError(`field number 0 at byte ${this.pos}`);
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw new WireFormatError(`unsupported wire type ${wireType} for field ${field}`);
    }
    return { field, wireType };
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const byte = this.bytes[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** int32 fields: negative values arrive sign-extended to 64 bits. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint()));
  }

  /** int64 fields. Beyond ±2^53 precision is lost, as in any JSON number JavaScript reads. */
  int64(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  fixed64(): Uint8Array {
    return this.take(8);
  }

  fixed32(): Uint8Array {
    return this.take(4);
  }

  double(): number {
    const b = this.fixed64();
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  }

  float(): number {
    const b = this.fixed32();
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  /** The payload of a length-delimited field (a view, not a copy). */
  lengthDelimited(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.end - this.pos)) throw new WireFormatError(`length ${length} runs past the end of the message`);
    return this.take(Number(length));
  }

  string(): string {
    return new TextDecoder('utf-8').decode(this.lengthDelimited());
  }

  /** Passes over a field this reader has no use for. */
  skip(wireType: WireType): void {
    switch (wireType) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.take(8);
        return;
      case WireType.lengthDelimited:
        this.lengthDelimited();
        return;
      case WireType.fixed32:
        this.take(4);
        return;
    }
  }

  private take(count: number): Uint8Array {
    if (this.pos + count > this.end) throw new WireFormatError(`needs ${count} bytes, ${this.end - this.pos} left`);
    const view = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return view;
  }
}
