// action/constants.ts names each input and output once: these check that the names are exactly
// those that action.yml and restore/action.yml declare (none missing, none extra), that each
// is described, that the README's tables list the same names, and that the action code reads
// and sets none by a literal of its own.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BackupInputs, BackupOutputs, RestoreInputs, RestoreOutputs } from '../../action/constants.js';
import { actionEntries } from './action-yml.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const sorted = (names: Iterable<string>): string[] => [...names].sort();

/** The first column, without its backquotes, of the `| input |` or `| output |` table in the
 *  README section under `heading` (up to the next heading). */
function tableNames(doc: string, heading: string, kind: 'input' | 'output'): string[] {
  const section = doc.split(`\n${heading}\n`)[1]?.split(/\n#{1,3} /)[0] ?? '';
  const lines = section.split('\n');
  const header = lines.findIndex((line) => line.startsWith(`| ${kind} `));
  if (header < 0) return [];
  const rows = lines.slice(header + 2);
  const end = rows.findIndex((line) => !line.startsWith('|'));
  return rows.slice(0, end < 0 ? undefined : end).map((line) => /^\| `([^`]+)`/.exec(line)?.[1] ?? line);
}

describe.each([
  { yml: 'action.yml', inputs: BackupInputs, outputs: BackupOutputs },
  { yml: 'restore/action.yml', inputs: RestoreInputs, outputs: RestoreOutputs },
])('$yml', ({ yml, inputs, outputs }) => {
  test.each([
    ['inputs', inputs],
    ['outputs', outputs],
  ] as const)('declares exactly the %s named in action/constants.ts, each described', (section, names) => {
    const entries = actionEntries(read(yml), section);
    expect(sorted(entries.map((e) => e.name))).toEqual(sorted(Object.values(names)));
    expect(entries.filter((e) => !e.description.trim()).map((e) => e.name)).toEqual([]);
  });

  test('the constants name no input and no output twice', () => {
    for (const names of [inputs, outputs])
      expect(sorted(new Set(Object.values(names)))).toEqual(sorted(Object.values(names)));
  });
});

test.each([
  ['## Inputs', 'input', BackupInputs],
  ['## Outputs', 'output', BackupOutputs],
  ['### The restore sub-action', 'input', RestoreInputs],
  ['### The restore sub-action', 'output', RestoreOutputs],
] as const)("README.md's %s %s table lists exactly the constants", (heading, kind, names) => {
  expect(sorted(tableNames(read('README.md'), heading, kind))).toEqual(sorted(Object.values(names)));
});

test('the action code reads and sets inputs and outputs only through the constants', () => {
  const literal = /\b(getInput|getBooleanInput|getMultilineInput|setOutput|parseBoolean)\(\s*['"`]/;
  const files = readdirSync(join(ROOT, 'action'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'constants.ts')
    .map((entry) => join(entry.parentPath, entry.name));
  expect(files.length).toBeGreaterThan(5);
  const offending = files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => literal.test(line))
      .map((line) => `${relative(ROOT, file)}: ${line.trim()}`),
  );
  expect(offending).toEqual([]);
});
