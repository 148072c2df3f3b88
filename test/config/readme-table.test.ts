import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { environment, LOCAL_DATABASE_URL, REPO_ROOT } from '../../src/config';

/** The README's table of variables: each row's names, and the value its Default column starts with, if any. */
function readmeTable(): { names: string[]; default: string | undefined }[] {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]!.split(/^## /m)[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [names = '', defaults = ''] = line.split('|').slice(1);
      return {
        names: [...names.matchAll(/`([A-Z][A-Z0-9_]*\*?)`/g)].map((match) => match[1]!),
        default: /^\s*`([^`]+)`/.exec(defaults)?.[1],
      };
    });
}

/** Each variable's default as it would be written in the environment. */
const schemaDefaults = new Map(
  Object.entries(z.toJSONSchema(environment, { io: 'input', unrepresentable: 'any' }).properties ?? {}).map(
    ([name, property]) => [
      name,
      typeof property === 'object' ? (property.default as string | undefined) : undefined,
    ],
  ),
);
/** Defaults that depend on the environment, so the schema leaves them to the code. */
const computedDefaults: Record<string, string> = { DATABASE_URL: LOCAL_DATABASE_URL };

describe("README's table of environment variables", () => {
  const rows = readmeTable();
  const documented = rows.flatMap((row) => row.names);

  it('lists every variable of the configuration schema', () => {
    expect([...schemaDefaults.keys()].filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('lists no variable the schema does not know, except the Temporal client ones that envconfig reads', () => {
    const unknown = documented.filter((name) => !schemaDefaults.has(name));
    expect(unknown.filter((name) => !name.startsWith('TEMPORAL_'))).toEqual([]);
    expect(rows.filter((row) => row.names.some((name) => unknown.includes(name)))).toEqual([
      { names: unknown, default: undefined },
    ]);
  });

  it('gives the default the schema gives, wherever it states one', () => {
    const stated = rows.filter((row) => row.default !== undefined);
    expect(stated.length).toBeGreaterThan(20);
    for (const row of stated) {
      expect(row.names).toHaveLength(1);
      const name = row.names[0]!;
      expect({ name, default: row.default }).toEqual({
        name,
        default: schemaDefaults.get(name) ?? computedDefaults[name],
      });
    }
  });

  it('states a default for every variable the schema gives one', () => {
    const withDefault = [...schemaDefaults].filter(([, value]) => value !== undefined).map(([name]) => name);
    const stated = rows.filter((row) => row.default !== undefined).flatMap((row) => row.names);
    expect(withDefault.filter((name) => !stated.includes(name))).toEqual([]);
  });
});
