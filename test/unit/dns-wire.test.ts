import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import {
  buildResponse,
  decodeQuery,
  encodeWithinLimit,
  fitRawWithinLimit,
  frameTcpMessage,
  headerOnlyReply,
  rcodeOf,
  RCODES,
  TcpMessageReader,
  udpPayloadLimit,
} from '../../src/node/controlplane/dns/wire.js';

const NAME = 'a-rather-long-headless-service-name.some-namespace.svc.cluster.local';

function query(extra: Partial<Packet> = {}): DecodedPacket {
  return dnsPacket.decode(dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: NAME }], ...extra }));
}

function withEdns(size: number): DecodedPacket {
  return query({ additionals: [{ type: 'OPT', name: '.', udpPayloadSize: size, flags: 0, options: [] } as unknown as Answer] });
}

function addresses(count: number): Answer[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'A', name: NAME, ttl: 5, data: `10.244.${Math.floor(i / 250)}.${i % 250}` }) as Answer);
}

describe('EDNS payload size', () => {
  it('is 512 without an OPT record, the advertised size within 512..4096 with one', () => {
    expect(udpPayloadLimit(query())).toBe(512);
    expect(udpPayloadLimit(withEdns(1232))).toBe(1232);
    expect(udpPayloadLimit(withEdns(100))).toBe(512);
    expect(udpPayloadLimit(withEdns(65000))).toBe(4096);
  });
});

describe('responses', () => {
  it('echo the id, question and RD, set QR, RA, AA and the rcode', () => {
    const response = dnsPacket.decode(dnsPacket.encode(buildResponse(query(), { rcode: 'NXDOMAIN', authoritative: true })));
    expect(response.id).toBe(4242);
    expect(response.type).toBe('response');
    expect(response.questions).toEqual([{ type: 'A', name: NAME, class: 'IN' }]);
    expect(response.flag_rd).toBe(true);
    expect(response.flag_ra).toBe(true);
    expect(response.flag_aa).toBe(true);
    expect(response.flag_tc).toBe(false);
    expect(rcodeOf(response.flags!)).toBe(RCODES.NXDOMAIN);
    expect(response.additionals).toEqual([]);
  });

  it('carry an OPT record when the query had one', () => {
    const response = dnsPacket.decode(dnsPacket.encode(buildResponse(withEdns(4096), { rcode: 'NOERROR' })));
    expect(response.additionals).toHaveLength(1);
    expect(response.additionals![0]).toMatchObject({ type: 'OPT', udpPayloadSize: 1232 });
  });
});

describe('truncation for UDP', () => {
  it('keeps a response that fits as it is', () => {
    const response = buildResponse(query(), { rcode: 'NOERROR', answers: addresses(3) });
    expect(encodeWithinLimit(response, 512)).toEqual(dnsPacket.encode(response));
  });

  it('drops the additional section first, without TC', () => {
    const response = buildResponse(query(), { rcode: 'NOERROR', answers: addresses(4), additionals: addresses(10) });
    const encoded = encodeWithinLimit(response, 512);
    const decoded = dnsPacket.decode(encoded);
    expect(encoded.length).toBeLessThanOrEqual(512);
    expect(decoded.flag_tc).toBe(false);
    expect(decoded.answers).toHaveLength(4);
    expect(decoded.additionals).toEqual([]);
  });

  it('keeps as many answers as fit and sets TC', () => {
    const response = buildResponse(query(), { rcode: 'NOERROR', answers: addresses(40) });
    const encoded = encodeWithinLimit(response, 512);
    const decoded = dnsPacket.decode(encoded);
    expect(encoded.length).toBeLessThanOrEqual(512);
    expect(decoded.flag_tc).toBe(true);
    expect(decoded.id).toBe(4242);
    const kept = decoded.answers!.length;
    expect(kept).toBeGreaterThan(0);
    // One more would not have fit.
    expect(dnsPacket.encodingLength({ ...response, answers: addresses(kept + 1), additionals: [] })).toBeGreaterThan(512);
  });

  it('sends everything when the client advertised room for it', () => {
    const response = buildResponse(withEdns(4096), { rcode: 'NOERROR', answers: addresses(40) });
    const decoded = dnsPacket.decode(encodeWithinLimit(response, udpPayloadLimit(withEdns(4096))));
    expect(decoded.flag_tc).toBe(false);
    expect(decoded.answers).toHaveLength(40);
  });

  it('cuts a raw upstream reply that is too large, and passes one that fits untouched', () => {
    const big = dnsPacket.encode(buildResponse(query(), { rcode: 'NOERROR', answers: addresses(40) }));
    const cut = fitRawWithinLimit(big, 512);
    expect(cut.length).toBeLessThanOrEqual(512);
    expect(dnsPacket.decode(cut).flag_tc).toBe(true);
    const small = dnsPacket.encode(buildResponse(query(), { rcode: 'NOERROR', answers: addresses(2) }));
    expect(fitRawWithinLimit(small, 512)).toBe(small);
    const garbage = Buffer.concat([small.subarray(0, 12), Buffer.alloc(600, 0xff)]);
    const header = fitRawWithinLimit(garbage, 512);
    expect(header.length).toBe(12);
    expect(header.readUInt16BE(0)).toBe(4242);
    expect(header.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE).not.toBe(0);
  });
});

describe('decoding queries', () => {
  const good = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'example.com' }] });

  it('decodes a standard query', () => {
    const result = decodeQuery(good);
    expect(result.ok).toBe(true);
  });

  it('drops what is too short for a header and what is a response', () => {
    expect(decodeQuery(Buffer.alloc(5))).toEqual({ ok: false, reply: undefined });
    const response = dnsPacket.encode({ type: 'response', id: 7, questions: [{ type: 'A', name: 'example.com' }] });
    expect(decodeQuery(response)).toEqual({ ok: false, reply: undefined });
  });

  it('answers FORMERR to what does not decode or has two questions, NOTIMP to other opcodes', () => {
    const broken = Buffer.concat([good.subarray(0, 12), Buffer.from([0x3f, 0x61])]);
    const formerr = decodeQuery(broken);
    expect(formerr.ok).toBe(false);
    const reply = (formerr as { reply: Buffer }).reply;
    expect(reply.readUInt16BE(0)).toBe(7);
    expect(rcodeOf(reply.readUInt16BE(2))).toBe(RCODES.FORMERR);
    expect(reply.readUInt16BE(2) & 0x8000).not.toBe(0);

    const two = dnsPacket.encode({ type: 'query', id: 8, questions: [{ type: 'A', name: 'a.example' }, { type: 'A', name: 'b.example' }] });
    expect(rcodeOf((decodeQuery(two) as { reply: Buffer }).reply.readUInt16BE(2))).toBe(RCODES.FORMERR);

    const status = Buffer.from(good);
    status.writeUInt16BE(2 << 11, 2); // opcode STATUS
    const notimp = (decodeQuery(status) as { reply: Buffer }).reply;
    expect(rcodeOf(notimp.readUInt16BE(2))).toBe(RCODES.NOTIMP);
    expect((notimp.readUInt16BE(2) >> 11) & 0xf).toBe(2);
  });

  it('builds header-only replies that keep RD', () => {
    const rd = Buffer.from(good);
    rd.writeUInt16BE(dnsPacket.RECURSION_DESIRED, 2);
    const reply = headerOnlyReply(rd, 'SERVFAIL');
    expect(reply.length).toBe(12);
    expect(reply.readUInt16BE(2) & dnsPacket.RECURSION_DESIRED).not.toBe(0);
    expect(rcodeOf(reply.readUInt16BE(2))).toBe(RCODES.SERVFAIL);
  });
});

describe('TCP framing', () => {
  it('splits a stream into messages, whatever the chunks', () => {
    const first = Buffer.from('first message');
    const second = Buffer.from('second');
    const stream = Buffer.concat([frameTcpMessage(first), frameTcpMessage(second)]);
    const reader = new TcpMessageReader();
    const messages: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 3) messages.push(...reader.push(stream.subarray(i, i + 3)));
    expect(messages.map((m) => m.toString())).toEqual(['first message', 'second']);
    expect(reader.push(Buffer.concat([frameTcpMessage(first), frameTcpMessage(second)])).map((m) => m.toString())).toEqual(['first message', 'second']);
  });
});
