/**
 * A Kubernetes protobuf encoder for tests, driven by the decoder's own tables: it writes what
 * gogo-protobuf (client-go) writes — fields in number order, value scalars always (zero
 * included), pointers and messages only when set, map entries sorted by key — so that
 * decode(encode(x)) must give x back for any x in Go's JSON form.
 */
import { messageSchema, rootMessageFor, type FieldSchema, type MessageSchema, type ScalarType, type SpecialType, type ValueType } from '../../src/node/controlplane/apiserver/protobuf/schema.js';

type Json = Record<string, unknown>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function encodeKubeProtobuf(object: Json & { apiVersion: string; kind: string }): Buffer {
  const schema = rootMessageFor(object.apiVersion, object.kind);
  if (!schema) throw new Error(`no protobuf schema for ${object.apiVersion} ${object.kind}`);
  return envelope(object.apiVersion, object.kind, encodeMessage(schema, object));
}

/** The k8s\0 + runtime.Unknown envelope around raw message bytes. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const typeMeta = Buffer.concat([lengthDelimited(1, Buffer.from(apiVersion)), lengthDelimited(2, Buffer.from(kind))]);
  return Buffer.concat([MAGIC, lengthDelimited(1, typeMeta), lengthDelimited(2, raw), lengthDelimited(3, Buffer.alloc(0)), lengthDelimited(4, Buffer.alloc(0))]);
}

export function encodeMessage(schema: MessageSchema, object: Json): Buffer {
  const parts: Buffer[] = [];
  for (const field of [...schema.fields].sort((a, b) => a.number - b.number)) parts.push(encodeField(field, object));
  return Buffer.concat(parts);
}

function encodeField(field: FieldSchema, object: Json): Buffer {
  if (field.jsonName === undefined) return lengthDelimited(field.number, encodeValueMessage(field.type, object));
  const value = object[field.jsonName];
  if (field.cardinality === 'repeated') {
    if (!Array.isArray(value)) return Buffer.alloc(0);
    return Buffer.concat(value.map((item: unknown) => encodeSingle(field.number, field.type, item)));
  }
  if (field.cardinality === 'map') {
    if (value === undefined || value === null) return Buffer.alloc(0);
    const entries = Object.entries(value as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Buffer.concat(
      entries.map(([key, v]) => lengthDelimited(field.number, Buffer.concat([lengthDelimited(1, Buffer.from(key)), encodeSingle(2, field.type, v)]))),
    );
  }
  if (field.type.kind === 'scalar') {
    if (field.presence === 'pointer') return value === undefined || value === null ? Buffer.alloc(0) : encodeSingle(field.number, field.type, value);
    return encodeSingle(field.number, field.type, value ?? zeroOf(field.type.scalar));
  }
  return value === undefined ? Buffer.alloc(0) : encodeSingle(field.number, field.type, value);
}

function encodeSingle(number: number, type: ValueType, value: unknown): Buffer {
  switch (type.kind) {
    case 'scalar':
      return encodeScalar(number, type.scalar, value);
    case 'special':
      return lengthDelimited(number, encodeSpecial(type.special, value));
    case 'message':
      return lengthDelimited(number, encodeValueMessage(type, value as Json));
  }
}

function encodeValueMessage(type: ValueType, value: Json): Buffer {
  if (type.kind !== 'message') throw new Error('an inlined field must be a message');
  const schema = messageSchema(type.message);
  if (!schema) throw new Error(`no schema for ${type.message}`);
  return encodeMessage(schema, value);
}

function encodeScalar(number: number, scalar: ScalarType, value: unknown): Buffer {
  switch (scalar) {
    case 'string':
      return lengthDelimited(number, Buffer.from(String(value), 'utf8'));
    case 'bytes':
      return lengthDelimited(number, Buffer.from(String(value), 'base64'));
    case 'int32':
    case 'int64':
      return Buffer.concat([tag(number, 0), varint(BigInt(value as number))]);
    case 'bool':
      return Buffer.concat([tag(number, 0), varint(value ? 1n : 0n)]);
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value as number);
      return Buffer.concat([tag(number, 1), b]);
    }
  }
}

function encodeSpecial(special: SpecialType, value: unknown): Buffer {
  switch (special) {
    case 'IntOrString':
      return typeof value === 'string'
        ? Buffer.concat([tag(1, 0), varint(1n), tag(2, 0), varint(0n), lengthDelimited(3, Buffer.from(value))])
        : Buffer.concat([tag(1, 0), varint(0n), tag(2, 0), varint(BigInt(value as number)), lengthDelimited(3, Buffer.alloc(0))]);
    case 'Quantity':
      return lengthDelimited(1, Buffer.from(String(value)));
    case 'Time':
    case 'MicroTime': {
      if (value === null) return Buffer.alloc(0);
      const text = String(value);
      const millis = Date.parse(text);
      if (Number.isNaN(millis)) throw new Error(`not a time: ${text}`);
      const fraction = /\.(\d+)Z$/.exec(text)?.[1] ?? '';
      const nanos = Number(fraction.padEnd(9, '0').slice(0, 9) || '0');
      return Buffer.concat([tag(1, 0), varint(BigInt(Math.floor(millis / 1000))), tag(2, 0), varint(BigInt(nanos))]);
    }
    case 'RawExtension':
    case 'FieldsV1':
      return lengthDelimited(1, Buffer.from(JSON.stringify(value)));
  }
}

function zeroOf(scalar: ScalarType): unknown {
  return scalar === 'string' || scalar === 'bytes' ? '' : scalar === 'bool' ? false : 0;
}

// ---------------------------------------------------------------------------------------------
// Wire primitives
// ---------------------------------------------------------------------------------------------

export function varint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return Buffer.from(bytes);
}

export function tag(number: number, wireType: number): Buffer {
  return varint((BigInt(number) << 3n) | BigInt(wireType));
}

export function lengthDelimited(number: number, payload: Uint8Array): Buffer {
  return Buffer.concat([tag(number, 2), varint(BigInt(payload.length)), payload]);
}
