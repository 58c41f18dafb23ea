import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isDebootstrapPhase, nodeImageDir, nodeImageRecipeHash, nodeImageRef, recipeHashOf } from '../../src/docker/image.js';

describe('node image recipe hash', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function copyOfRecipe(): Promise<string> {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-recipe-'));
    await cp(nodeImageDir(), dir, { recursive: true });
    return dir;
  }

  it('is 12 hex characters and names the image tag', async () => {
    const hash = await nodeImageRecipeHash();
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
    expect(await nodeImageRef()).toBe(`clusterlab/node:${hash}`);
  });

  it('is the same for an identical copy and changes with any file of the recipe', async () => {
    const copy = await copyOfRecipe();
    const original = await recipeHashOf(copy);
    expect(original).toBe(await nodeImageRecipeHash());

    await writeFile(path.join(copy, 'Dockerfile'), '# a comment\n', { flag: 'a' });
    const changedDockerfile = await recipeHashOf(copy);
    expect(changedDockerfile).not.toBe(original);

    await writeFile(path.join(copy, 'rootfs', 'extra.conf'), 'x\n');
    const addedFile = await recipeHashOf(copy);
    expect(addedFile).not.toBe(changedDockerfile);
  });

  it('depends on file names, not only contents', async () => {
    const a = await mkdtemp(path.join(os.tmpdir(), 'clusterlab-recipe-'));
    try {
      await writeFile(path.join(a, 'one'), 'same');
      const before = await recipeHashOf(a);
      await rm(path.join(a, 'one'));
      await writeFile(path.join(a, 'two'), 'same');
      expect(await recipeHashOf(a)).not.toBe(before);
    } finally {
      await rm(a, { recursive: true, force: true });
    }
  });
});

describe('isDebootstrapPhase', () => {
  it.each([
    ['I: Retrieving InRelease ', true],
    ['I: Retrieving Packages ', true],
    ['I: Resolving dependencies of required packages...', true],
    ['I: Unpacking required packages...', true],
    ['I: Base system installed successfully.', true],
    ['I: Retrieving libc6 2.36-9+deb12u10', false],
    ['I: Validating libc6 2.36-9+deb12u10', false],
    ['I: Extracting libc6...', false],
    ['I: Configuring libc6:amd64...', false],
    ['W: something', false],
  ])('%s -> %s', (line, expected) => {
    expect(isDebootstrapPhase(line)).toBe(expected);
  });
});
