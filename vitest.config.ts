import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/e2e/sequencer.js';

// Three projects: unit tests need no Docker; e2e tests drive the built CLI against the real
// engine; e2e-engine restarts that engine, so it runs alone, after the others.
export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirstSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Two files at a time: each makes its own uniquely named clusters, and most of an e2e
          // file's time is spent waiting on them (a node to go NotReady, a probe window), so two
          // side by side nearly halve the run even on 2 cores. More would starve the clusters.
          maxWorkers: 2,
          // After the unit tests, which run with vitest's own worker count.
          sequence: { groupOrder: 1 },
          globalSetup: ['test/e2e/global-setup.ts'],
          exclude: ['test/e2e/engine-restart.test.ts'],
        },
      },
      {
        test: {
          // Restarts the host's Docker engine, stopping every container on it: alone, last.
          name: 'e2e-engine',
          include: ['test/e2e/engine-restart.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
