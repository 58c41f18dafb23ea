/**
 * Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) as the JSON
 * object the same client would have sent as JSON. The envelope is the 4 bytes `k8s\0` and a
 * runtime.Unknown {typeMeta 1 {apiVersion 1, kind 2}, raw 2, contentEncoding 3, contentType 4};
 * `raw` is the kind's own message, read with the tables in schema.ts.
 */
import { ApiStatusError, badRequest } from '../status.js';
import { messageSchema, rootMessageFor, supportedKinds, type FieldSchema, type MessageSchema, type ScalarType, type SpecialType, type ValueType } from './schema.js';
import { WireFormatError, WireReader, WireType } from './wire.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

export interface DecodedBody {
  apiVersion: string;
  kind: string;
  /** The object in its JSON form, kind and apiVersion first. */
  object: Record<string, unknown>;
}

/** Throws a 400 Status for malformed bytes, a 415 for a kind this server cannot read as protobuf. */
export function decodeKubeProtobuf(body: Uint8Array): DecodedBody {
  try {
    return decodeEnvelope(body);
  } catch (err) {
    if (err instanceof WireFormatError) throw badRequest(`the protobuf body could not be decoded: ${err.message}`);
    throw err;
  }
}

export function hasProtobufMagic(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

function decodeEnvelope(body: Uint8Array): DecodedBody {
  if (!hasProtobufMagic(body)) throw new WireFormatError('the body does not start with the Kubernetes protobuf prefix "k8s\\0"');
  const reader = new WireReader(body, MAGIC.length);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array = new Uint8Array(0);
  let contentEncoding = '';
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WireType.lengthDelimited) ({ apiVersion, kind } = readTypeMeta(reader.lengthDelimited()));
    else if (field === 2 && wireType === WireType.lengthDelimited) raw = reader.lengthDelimited();
    else if (field === 3 && wireType === WireType.lengthDelimited) contentEncoding = reader.string();
    else reader.skip(wireType);
  }
  if (kind === '') throw badRequest("Object 'Kind' is missing in the protobuf body");
  if (contentEncoding !== '') throw unreadable(apiVersion, kind, `its raw bytes use content encoding "${contentEncoding}"`);
  const schema = rootMessageFor(apiVersion, kind);
  if (!schema) throw unreadable(apiVersion, kind, `this server reads protobuf only for ${supportedKinds().join(', ')}`);
  // kind before apiVersion: the order of metav1.TypeMeta, so the text matches what Go prints.
  return { apiVersion, kind, object: { kind, apiVersion, ...decodeMessage(schema, raw) } };
}

function readTypeMeta(bytes: Uint8Array): { apiVersion: string; kind: string } {
  const reader = new WireReader(bytes);
  let apiVersion = '';
  let kind = '';
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WireType.lengthDelimited) apiVersion = reader.string();
    else if (field === 2 && wireType === WireType.lengthDelimited) kind = reader.string();
    else reader.skip(wireType);
  }
  return { apiVersion, kind };
}

function unreadable(apiVersion: string, kind: string, why: string): ApiStatusError {
  const what = `${apiVersion === '' ? '' : `${apiVersion} `}${kind}`;
  return new ApiStatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `cannot decode a ${what} sent as ${PROTOBUF_MEDIA_TYPE}: ${why}; send it as application/json`,
    details: { causes: [{ reason: 'UnsupportedMediaType', message: PROTOBUF_MEDIA_TYPE }] },
  });
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** One message as Go's encoding/json prints it: fields in struct order, omitempty applied. */
export function decodeMessage(schema: MessageSchema, bytes: Uint8Array): Record<string, unknown> {
  const values = new Map<FieldSchema, unknown>();
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    const spec = schema.byNumber.get(field);
    if (!spec) {
      reader.skip(wireType);
      continue;
    }
    const where = `${schema.name}.${spec.jsonName ?? spec.type.kind}`;
    if (spec.cardinality === 'single') {
      values.set(spec, readValue(spec.type, wireType, reader, where));
    } else if (spec.cardinality === 'repeated') {
      const list = (values.get(spec) as unknown[] | undefined) ?? [];
      if (wireType === WireType.lengthDelimited && isPackable(spec.type)) {
        const packed = new WireReader(reader.lengthDelimited());
        while (!packed.done) list.push(readValue(spec.type, scalarWireType(spec.type), packed, where));
      } else {
        list.push(readValue(spec.type, wireType, reader, where));
      }
      values.set(spec, list);
    } else {
      const map = (values.get(spec) as Record<string, unknown> | undefined) ?? {};
      expectWireType(wireType, WireType.lengthDelimited, where);
      const [key, value] = readMapEntry(spec.type, reader.lengthDelimited(), where);
      map[key] = value;
      values.set(spec, map);
    }
  }

  const out: Record<string, unknown> = {};
  for (const spec of schema.fields) {
    if (spec.jsonName === undefined) {
      // An embedded struct: its fields belong to this object.
      const inner = values.get(spec);
      if (inner !== undefined) Object.assign(out, inner);
      continue;
    }
    if (values.has(spec)) {
      const value = values.get(spec);
      if (spec.cardinality === 'single' && spec.type.kind === 'scalar' && spec.presence === 'omitempty' && isZero(value)) continue;
      out[spec.jsonName] = value;
    } else if (spec.presence === 'always' && spec.cardinality === 'single' && spec.type.kind === 'scalar') {
      out[spec.jsonName] = zeroOf(spec.type.scalar);
    }
  }
  return out;
}

function readMapEntry(valueType: ValueType, bytes: Uint8Array, where: string): [string, unknown] {
  const reader = new WireReader(bytes);
  let key = '';
  let value: unknown;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1) {
      expectWireType(wireType, WireType.lengthDelimited, `${where} (map key)`);
      key = reader.string();
    } else if (field === 2) {
      value = readValue(valueType, wireType, reader, `${where}[${key}]`);
    } else {
      reader.skip(wireType);
    }
  }
  // An entry without a value holds the type's zero value, as in Go.
  return [key, value === undefined ? zeroValue(valueType) : value];
}

function readValue(type: ValueType, wireType: WireType, reader: WireReader, where: string): unknown {
  switch (type.kind) {
    case 'scalar':
      return readScalar(type.scalar, wireType, reader, where);
    case 'special':
      expectWireType(wireType, WireType.lengthDelimited, where);
      return readSpecial(type.special, reader.lengthDelimited(), where);
    case 'message': {
      expectWireType(wireType, WireType.lengthDelimited, where);
      const schema = messageSchema(type.message);
      // schema.ts checks every reference when it loads; this is unreachable.
      if (!schema) throw new WireFormatError(`${where}: no description of message ${type.message}`);
      return decodeMessage(schema, reader.lengthDelimited());
    }
  }
}

function readScalar(scalar: ScalarType, wireType: WireType, reader: WireReader, where: string): unknown {
  expectWireType(wireType, scalarWireType({ kind: 'scalar', scalar }), where);
  switch (scalar) {
    case 'string':
      return reader.string();
    case 'bytes':
      // Go's encoding/json writes []byte as standard base64.
      return Buffer.from(reader.lengthDelimited()).toString('base64');
    case 'int32':
      return reader.int32();
    case 'int64':
      return reader.int64();
    case 'bool':
      return reader.bool();
    case 'double':
      return reader.double();
  }
}

function readSpecial(special: SpecialType, bytes: Uint8Array, where: string): unknown {
  const fields = readFlatFields(bytes);
  switch (special) {
    case 'IntOrString':
      // type 1 (0 = int, 1 = string), intVal 2, strVal 3.
      return fields.varint(1) === 1n ? fields.string(3) : Number(BigInt.asIntN(32, fields.varint(2)));
    case 'Quantity':
      // A zero Quantity prints as "0".
      return fields.string(1) || '0';
    case 'Time':
      // An empty message is the zero time (JSON null); the JSON form keeps whole seconds only.
      return bytes.length === 0 ? null : formatTime(Number(BigInt.asIntN(64, fields.varint(1))), 0, 'seconds', where);
    case 'MicroTime':
      return bytes.length === 0 ? null : formatTime(Number(BigInt.asIntN(64, fields.varint(1))), Number(fields.varint(2)), 'micros', where);
    case 'RawExtension':
      return rawToJson(fields.bytes(1));
    case 'FieldsV1': {
      const raw = fields.bytes(1);
      return parseJsonOr(raw, () => Buffer.from(raw).toString('utf8'));
    }
  }
}

/** The last value of each field of a small message whose fields are all scalars. */
function readFlatFields(bytes: Uint8Array) {
  const varints = new Map<number, bigint>();
  const blobs = new Map<number, Uint8Array>();
  const reader = new WireReader(bytes);
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (wireType === WireType.varint) varints.set(field, reader.varint());
    else if (wireType === WireType.lengthDelimited) blobs.set(field, reader.lengthDelimited());
    else reader.skip(wireType);
  }
  return {
    varint: (n: number): bigint => varints.get(n) ?? 0n,
    bytes: (n: number): Uint8Array => blobs.get(n) ?? new Uint8Array(0),
    string: (n: number): string => new TextDecoder('utf-8').decode(blobs.get(n) ?? new Uint8Array(0)),
  };
}

/** An embedded object: JSON as the client wrote it, or a nested protobuf envelope. */
function rawToJson(raw: Uint8Array): unknown {
  if (raw.length === 0) return null;
  if (hasProtobufMagic(raw)) return decodeEnvelope(raw).object;
  return parseJsonOr(raw, () => Buffer.from(raw).toString('base64'));
}

function parseJsonOr(raw: Uint8Array, fallback: () => unknown): unknown {
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
  } catch {
    return fallback();
  }
}

/** RFC 3339 in UTC, as metav1.Time ("…:05Z") and metav1.MicroTime ("…:05.000000Z") print. */
function formatTime(seconds: number, nanos: number, precision: 'seconds' | 'micros', where: string): string {
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < 0 || year > 9999) throw new WireFormatError(`${where}: time ${seconds}s is out of range`);
  const base = date.toISOString().slice(0, 19);
  if (precision === 'seconds') return `${base}Z`;
  const micros = Math.floor(Math.max(0, Math.min(nanos, 999_999_999)) / 1000);
  return `${base}.${String(micros).padStart(6, '0')}Z`;
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

function scalarWireType(type: ValueType): WireType {
  if (type.kind !== 'scalar') return WireType.lengthDelimited;
  switch (type.scalar) {
    case 'string':
    case 'bytes':
      return WireType.lengthDelimited;
    case 'double':
      return WireType.fixed64;
    default:
      return WireType.varint;
  }
}

function isPackable(type: ValueType): boolean {
  return scalarWireType(type) !== WireType.lengthDelimited;
}

function expectWireType(actual: WireType, expected: WireType, where: string): void {
  if (actual !== expected) throw new WireFormatError(`${where}: wire type ${actual}, expected ${expected}`);
}

function zeroOf(scalar: ScalarType): unknown {
  switch (scalar) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

function zeroValue(type: ValueType): unknown {
  if (type.kind === 'scalar') return zeroOf(type.scalar);
  if (type.kind === 'special') return type.special === 'Quantity' ? '0' : type.special === 'IntOrString' ? 0 : null;
  return {};
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}
