import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/node/controlplane/store/memory.js';
import { StoreUnavailableError } from '../../src/node/controlplane/store/store.js';
import { describeStoreContract } from '../support/store-contract.js';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore specifics', () => {
  it('starts at revision 1 like an empty etcd and counts one per write', async () => {
    const store = new MemoryStore();
    expect(await store.revision()).toBe(1);
    expect(await store.create('/registry/a', 'a')).toBe(2);
    expect(await store.update('/registry/a', 'b', 2)).toBe(3);
    expect((await store.delete('/registry/a')).modRevision).toBe(4);
    expect(await store.revision()).toBe(4);
  });

  it('refuses to compact or list beyond the current revision', async () => {
    const store = new MemoryStore();
    await expect(store.compact(5)).rejects.toThrow(/store is at 1/);
    await expect(store.list('/', { revision: 5 })).rejects.toThrow(/future/);
  });

  it('fails every call once closed', async () => {
    const store = new MemoryStore();
    await store.close();
    await expect(store.get('/registry/a')).rejects.toBeInstanceOf(StoreUnavailableError);
    const error = await new Promise<Error>((resolve) => store.watch('/', 0, () => undefined, resolve));
    expect(error).toBeInstanceOf(StoreUnavailableError);
  });
});
