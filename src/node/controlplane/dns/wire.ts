/**
 * The DNS wire format around dns-packet: response headers, EDNS sizes, truncation of UDP
 * answers that do not fit, error replies to queries that cannot be decoded, and the 2-byte
 * length framing of DNS over TCP.
 */
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';

export const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type ResponseCode = keyof typeof RCODES;

/** RFC 1035's UDP limit, which holds unless the query's EDNS OPT record allows more. */
export const MIN_UDP_PAYLOAD = 512;
/** The most we send over UDP whatever a client advertises: larger datagrams fragment. */
export const MAX_UDP_PAYLOAD = 4096;
/** The size we advertise in our OPT record (DNS Flag Day 2020's recommendation). */
export const ADVERTISED_UDP_PAYLOAD = 1232;
const HEADER_BYTES = 12;
const QR_BIT = 0x8000;
const OPCODE_QUERY = 0;

export function opcodeOf(flags: number): number {
  return (flags >> 11) & 0xf;
}

export function rcodeOf(flags: number): number {
  return flags & 0xf;
}

/** A response's flags: the query's opcode and RD echoed, RA set (we recurse through the upstreams). */
export function responseFlags(queryFlags: number, rcode: ResponseCode, opts: { authoritative?: boolean; truncated?: boolean } = {}): number {
  return (
    (opcodeOf(queryFlags) << 11) |
    (opts.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    (opts.truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
    (queryFlags & dnsPacket.RECURSION_DESIRED) |
    dnsPacket.RECURSION_AVAILABLE |
    RCODES[rcode]
  );
}

export function optRecord(packet: Packet): OptAnswer | undefined {
  return packet.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
}

/** How large a UDP response to this query may be (EDNS0, RFC 6891 §6.2.5). */
export function udpPayloadLimit(query: Packet): number {
  const opt = optRecord(query);
  if (opt === undefined) return MIN_UDP_PAYLOAD;
  return Math.min(Math.max(opt.udpPayloadSize || MIN_UDP_PAYLOAD, MIN_UDP_PAYLOAD), MAX_UDP_PAYLOAD);
}

export interface ResponseParts {
  rcode: ResponseCode;
  authoritative?: boolean;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

/** A response to `query`: its id and question echoed, an OPT record when the query had one. */
export function buildResponse(query: DecodedPacket, parts: ResponseParts): Packet {
  const additionals = [...(parts.additionals ?? [])];
  if (optRecord(query) !== undefined) {
    // dns-packet's OPT encoder reads only these fields; the typings ask for the decoder's too.
    additionals.push({ type: 'OPT', name: '.', udpPayloadSize: ADVERTISED_UDP_PAYLOAD, flags: 0, options: [] } as unknown as OptAnswer);
  }
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: responseFlags(query.flags ?? 0, parts.rcode, { authoritative: parts.authoritative === true }),
    questions: query.questions ?? [],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals,
  };
}

/**
 * Encodes a response for UDP within `limit` bytes. What does not fit goes in this order: the
 * additional section (no TC: it is optional data), then the authority section and answers
 * from the end, with TC set so that the client asks again over TCP. As CoreDNS does, the
 * answers that fit are kept, for the resolvers that never retry over TCP.
 */
export function encodeWithinLimit(response: Packet, limit: number): Buffer {
  const full = dnsPacket.encode(response);
  if (full.length <= limit) return full;
  const opt = (response.additionals ?? []).filter((a) => a.type === 'OPT');
  const withoutAdditionals: Packet = { ...response, additionals: opt };
  if (dnsPacket.encodingLength(withoutAdditionals) <= limit) return dnsPacket.encode(withoutAdditionals);

  const answers = response.answers ?? [];
  const truncated = (count: number): Packet => ({
    ...withoutAdditionals,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: answers.slice(0, count),
    authorities: [],
  });
  // The largest number of answers that fits (encoding lengths grow with the count).
  let low = 0;
  let high = answers.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (dnsPacket.encodingLength(truncated(middle)) <= limit) low = middle;
    else high = middle - 1;
  }
  return dnsPacket.encode(truncated(low));
}

/** A raw response (from an upstream) made to fit `limit` bytes, re-encoded only when it does not. */
export function fitRawWithinLimit(raw: Buffer, limit: number): Buffer {
  if (raw.length <= limit) return raw;
  try {
    return encodeWithinLimit(dnsPacket.decode(raw), limit);
  } catch {
    // Undecodable: keep the header alone (id, flags, no records) with TC set.
    const header = Buffer.alloc(HEADER_BYTES);
    raw.copy(header, 0, 0, 4);
    header.writeUInt16BE(header.readUInt16BE(2) | dnsPacket.TRUNCATED_RESPONSE, 2);
    return header;
  }
}

export type DecodedQuery =
  | { ok: true; query: DecodedPacket }
  /** Not a query we can answer: reply with this (FORMERR, NOTIMP), or drop it when undefined. */
  | { ok: false; reply: Buffer | undefined };

/**
 * Decodes a query. A packet too short for a header, or a response, is dropped (answering
 * either could start a loop between two servers); anything else that is not one standard
 * query with one question gets a header-only error reply.
 */
export function decodeQuery(raw: Buffer): DecodedQuery {
  if (raw.length < HEADER_BYTES) return { ok: false, reply: undefined };
  const flags = raw.readUInt16BE(2);
  if ((flags & QR_BIT) !== 0) return { ok: false, reply: undefined };
  if (opcodeOf(flags) !== OPCODE_QUERY) return { ok: false, reply: headerOnlyReply(raw, 'NOTIMP') };
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(raw);
  } catch {
    return { ok: false, reply: headerOnlyReply(raw, 'FORMERR') };
  }
  if (query.questions?.length !== 1) return { ok: false, reply: headerOnlyReply(raw, 'FORMERR') };
  return { ok: true, query };
}

/** A reply to a query with just its id and opcode/RD, all counts zero. */
export function headerOnlyReply(raw: Buffer, rcode: ResponseCode): Buffer {
  const reply = Buffer.alloc(HEADER_BYTES);
  reply.writeUInt16BE(raw.readUInt16BE(0), 0);
  reply.writeUInt16BE(QR_BIT | responseFlags(raw.readUInt16BE(2), rcode), 2);
  return reply;
}

/** A SERVFAIL for a decoded query, question echoed. */
export function serverFailure(query: DecodedPacket): Buffer {
  return dnsPacket.encode(buildResponse(query, { rcode: 'SERVFAIL' }));
}

/** DNS over TCP: each message preceded by its length (RFC 1035 §4.2.2). */
export function frameTcpMessage(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length, 0);
  return Buffer.concat([length, message]);
}

/** Splits a TCP byte stream into the DNS messages it carries; a partial one waits for more bytes. */
export class TcpMessageReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 2) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) break;
      messages.push(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
    }
    return messages;
  }
}
