import { describe, expect, it } from 'vitest';
import {
  decodeBase64,
  encodeBase64,
  handleWatchMessage,
  prefixRangeEnd,
  splitJsonLines,
  toStoredValue,
} from '../../src/node/controlplane/store/etcd.js';
import { StoreCompactedError, StoreUnavailableError } from '../../src/node/controlplane/store/store.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('prefixRangeEnd', () => {
  it.each([
    ['/registry/pods/', '/registry/pods0'],
    ['/a', '/b'],
  ])('ends the range of %s at %s', (prefix, end) => {
    expect(decodeBase64(prefixRangeEnd(prefix))).toBe(end);
  });

  it('carries past 0xff bytes and means "to the end" for an all-0xff or empty prefix', () => {
    const carried = Buffer.from(prefixRangeEnd(Buffer.from([0x61, 0xff]).toString('latin1')), 'base64');
    // 'a' then U+00FF: UTF-8 61 c3 bf; the last byte below 0xff is bumped.
    expect([...carried]).toEqual([0x61, 0xc3, 0xc0]);
    expect([...Buffer.from(prefixRangeEnd(''), 'base64')]).toEqual([0]);
  });
});

describe('base64 and key-values', () => {
  it('round-trips UTF-8 text', () => {
    expect(decodeBase64(encodeBase64('grüße 🚀'))).toBe('grüße 🚀');
    expect(decodeBase64(undefined)).toBe('');
  });

  it('reads int64 strings and fills the defaults the gateway leaves out', () => {
    expect(toStoredValue({ key: b64('/k'), value: b64('v'), create_revision: '5', mod_revision: '9' })).toEqual({
      key: '/k',
      value: 'v',
      createRevision: 5,
      modRevision: 9,
    });
    expect(toStoredValue({ key: b64('/k') })).toEqual({ key: '/k', value: '', createRevision: 0, modRevision: 0 });
  });
});

describe('splitJsonLines', () => {
  it('returns complete lines and keeps the incomplete rest', () => {
    expect(splitJsonLines('{"a":1}\n{"b":2}\n{"c"')).toEqual({ messages: ['{"a":1}', '{"b":2}'], rest: '{"c"' });
    expect(splitJsonLines('{"a":1}\n')).toEqual({ messages: ['{"a":1}'], rest: '' });
    expect(splitJsonLines('\n\n')).toEqual({ messages: [], rest: '' });
  });
});

describe('handleWatchMessage', () => {
  it('ignores the "created" answer', () => {
    expect(handleWatchMessage('{"result":{"header":{"revision":"2"},"created":true}}', 1)).toEqual({ events: [] });
  });

  it('maps puts (PUT is the default, left out) and deletes with their previous values', () => {
    const line = JSON.stringify({
      result: {
        events: [
          { kv: { key: b64('/k'), value: b64('v1'), create_revision: '3', mod_revision: '3' } },
          {
            kv: { key: b64('/k'), value: b64('v2'), create_revision: '3', mod_revision: '4' },
            prev_kv: { key: b64('/k'), value: b64('v1'), create_revision: '3', mod_revision: '3' },
          },
          {
            type: 'DELETE',
            kv: { key: b64('/k'), mod_revision: '5' },
            prev_kv: { key: b64('/k'), value: b64('v2'), create_revision: '3', mod_revision: '4' },
          },
        ],
      },
    });
    expect(handleWatchMessage(line, 2)).toEqual({
      events: [
        { type: 'put', key: '/k', value: 'v1', modRevision: 3, created: true },
        { type: 'put', key: '/k', value: 'v2', prevValue: 'v1', modRevision: 4, created: false },
        { type: 'delete', key: '/k', value: 'v2', modRevision: 5, created: false },
      ],
    });
  });

  it('turns a compacted start revision into StoreCompactedError', () => {
    const { error } = handleWatchMessage('{"result":{"canceled":true,"compact_revision":"7"}}', 2);
    expect(error).toBeInstanceOf(StoreCompactedError);
    expect(error).toMatchObject({ requested: 2, compactRevision: 7 });
  });

  it('turns other cancellations, stream errors and garbage into StoreUnavailableError', () => {
    expect(handleWatchMessage('{"result":{"canceled":true,"cancel_reason":"no leader"}}', 2).error).toBeInstanceOf(StoreUnavailableError);
    expect(handleWatchMessage('{"error":{"message":"boom"}}', 2).error).toBeInstanceOf(StoreUnavailableError);
    expect(handleWatchMessage('{not json', 2).error).toBeInstanceOf(StoreUnavailableError);
  });
});
