import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_API_VERSION, clusterConfigJsonSchema } from '../../src/cluster/config.js';

// schema/cluster.schema.json is generated from the zod schema in src/cluster/config.ts
// (changesets' json-schema.test.ts). To regenerate it:
//   UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/config-schema.test.ts
const SCHEMA_FILE = join(import.meta.dirname, '..', '..', 'schema', 'cluster.schema.json');
const REGENERATE = 'UPDATE_SCHEMA=1 npx vitest run --project unit test/unit/config-schema.test.ts';

describe('schema/cluster.schema.json', () => {
  const generated = `${JSON.stringify(clusterConfigJsonSchema(), null, 2)}\n`;

  it('is in sync with the zod schema', () => {
    if (process.env['UPDATE_SCHEMA'] === '1') {
      mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
      writeFileSync(SCHEMA_FILE, generated);
    }
    const onDisk = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, 'utf8') : '';
    if (onDisk !== generated) {
      throw new Error(
        `schema/cluster.schema.json is ${onDisk ? 'out of date' : 'missing'}: the config schema in ` +
          `src/cluster/config.ts changed. Regenerate it with:\n  ${REGENERATE}\nand commit the result.`,
      );
    }
  });

  it('describes the format: strict, versioned, with defaults', () => {
    const schema = JSON.parse(generated) as {
      $id: string;
      title: string;
      additionalProperties: boolean;
      required: string[];
      properties: Record<string, Record<string, unknown>>;
    };
    expect(schema.$id).toMatch(/^https:\/\/.*cluster\.schema\.json$/);
    expect(schema.title).toContain(CONFIG_API_VERSION);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['apiVersion', 'kind']);
    expect(schema.properties['apiVersion']?.['const']).toBe(CONFIG_API_VERSION);
    expect(schema.properties['kind']?.['const']).toBe('Cluster');
    expect(schema.properties['name']?.['default']).toBe('lab');
    expect(schema.properties['engine']?.['enum']).toEqual(['swarm', 'kube']);
    const node = (schema.properties['nodes']?.['items'] ?? {}) as { additionalProperties?: boolean; required?: string[] };
    expect(node.additionalProperties).toBe(false);
    expect(node.required).toEqual(['role']);
  });
});
