// What GitHub runs must be what the source says: dist/ is rebuilt and compared, and
// action.yml and the workflows pass a linter of GitHub's action and workflow schemas.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../scripts/local-stack.js';
import { actionEntries, markdownTables } from './action-yml.js';

const exec = promisify(execFile);

test('dist/ is what the build makes of the source', async () => {
  const out = mkdtempSync(join(tmpdir(), 'r2-backup-build-'));
  try {
    await exec(process.execPath, [join(ROOT, 'scripts/build.ts'), '--out', out], { cwd: ROOT });
    const files = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
        .sort();
    const built = files(join(out, 'dist'));
    expect(files(join(ROOT, 'dist'))).toEqual(built);
    // npx r2-backup runs the CLI's bundle itself.
    expect(statSync(join(ROOT, 'dist/cli/index.js')).mode & 0o111).toBe(0o111);
    for (const file of built) {
      const fresh = readFileSync(join(out, 'dist', file), 'utf8');
      // toBe would print 2.5 MB on a mismatch; say which file and rebuild hint instead.
      expect({ file, stale: readFileSync(join(ROOT, 'dist', file), 'utf8') !== fresh }).toEqual({
        file,
        stale: false,
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 180_000);

test('action.yml has the inputs and outputs of the issue, each described, on node24', () => {
  const yml = readFileSync(join(ROOT, 'action.yml'), 'utf8');
  const inputs = actionEntries(yml, 'inputs');
  expect(inputs.map((i) => i.name)).toEqual([
    'tenant',
    'bucket',
    'bucket-map',
    'r2-account-id',
    'r2-endpoint',
    'r2-access-key-id',
    'r2-secret-access-key',
    'api-url',
    'api-token',
    'auth',
    'oidc-audience',
    'path',
    'exclude',
    'compression',
    'fail-on-api-error',
    'part-size-mib',
    'keep-last',
    'keep-days',
    'keep-daily',
    'keep-weekly',
    'keep-monthly',
    'include-git-history',
    'shallow-history',
    'sync-files',
    'sync-keep-deleted',
    'encryption-recipients',
    'include-metadata',
    'github-token',
    'metadata-max-wait-seconds',
    'include-wiki',
    'include-lfs',
  ]);
  expect(Object.fromEntries(inputs.filter((i) => i.default).map((i) => [i.name, i.default]))).toEqual({
    auth: 'token',
    path: '${{ github.workspace }}',
    compression: 'gzip',
    'fail-on-api-error': 'false',
    'include-git-history': 'false',
    'shallow-history': 'fail',
    'sync-files': 'false',
    'sync-keep-deleted': 'false',
    'include-metadata': 'false',
    'github-token': '${{ github.token }}',
    'metadata-max-wait-seconds': '300',
    'include-wiki': 'false',
    'include-lfs': 'false',
  });
  const outputs = actionEntries(yml, 'outputs');
  expect(outputs.map((o) => o.name)).toEqual([
    'tenant',
    'bucket',
    'backup-key',
    'backup-file',
    'size',
    'sha256',
    'file-count',
    'duration-ms',
    'bundle-key',
    'bundle-size',
    'bundle-sha256',
    'metadata-key',
    'metadata-size',
    'metadata-sha256',
    'metadata-partial',
    'wiki-key',
    'wiki-size',
    'wiki-sha256',
    'lfs-objects',
    'lfs-stored',
    'pruned',
    'files-uploaded',
    'files-deleted',
    'files-unchanged',
    'sync-requests',
  ]);
  for (const entry of [...inputs, ...outputs]) expect(entry.description.length).toBeGreaterThan(10);
  expect(yml).toMatch(/^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
});

/** What action-validator finds wrong in `file`, run as its CLI (an action when the file is
 *  named action.yml, else a workflow): nothing when it exits 0, else the errors it prints. */
async function validate(file: string): Promise<unknown[]> {
  try {
    await exec(process.execPath, [join(ROOT, 'node_modules/@action-validator/cli/cli.mjs'), file], {
      cwd: ROOT,
    });
    return [];
  } catch (error) {
    const { code, stderr } = error as { code?: number; stderr?: string };
    if (code !== 1 || !stderr) throw error;
    // The report is the JSON after any warnings ("Glob validation is not yet supported").
    return (JSON.parse(stderr.slice(stderr.search(/^\{/m))) as { errors: unknown[] }).errors;
  }
}

/** `yml` with a key GitHub does not know, which the validator must refuse. */
const broken = (yml: string): string => `${yml}\nno-such-key: true\n`;
const refusal = expect.objectContaining({ detail: "Additional property 'no-such-key' is not allowed" });

test.each(['action.yml', 'restore/action.yml'])('%s passes action-validator', async (file) => {
  // action-validator 0.6.0 (the newest) predates the node24 runtime in its schema: validate
  // everything else with node20 in its place; the tests above and below pin node24.
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-yml-'));
  try {
    const copy = join(dir, 'action.yml');
    const yml = readFileSync(join(ROOT, file), 'utf8');
    expect(yml).toMatch(/^runs:\n {2}using: node24\n/m);
    writeFileSync(copy, yml.replace('using: node24', 'using: node20'));
    expect(await validate(copy)).toEqual([]);
    // The same file with a mistake is refused: the check above can fail.
    writeFileSync(copy, broken(yml.replace('using: node24', 'using: node20')));
    expect(await validate(copy)).toEqual([refusal]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('restore/action.yml runs the restore bundle', () => {
  const yml = readFileSync(join(ROOT, 'restore/action.yml'), 'utf8');
  const main = /^ {2}main: (.*)$/m.exec(yml)![1]!;
  // GitHub resolves main relative to the directory of the action.yml.
  expect(statSync(join(ROOT, 'restore', main)).isFile()).toBe(true);
  expect(join('restore', main)).toBe(join('dist/restore/index.js'));
});

test.each(readdirSync(join(ROOT, '.github/workflows')))(
  '.github/workflows/%s passes action-validator',
  async (file) => {
    // action-validator 0.6.0 predates the `attestations` permission (release.yml): validate
    // everything else without it; test/release/workflows.test.ts lints whole files with actionlint.
    const yml = readFileSync(join(ROOT, '.github/workflows', file), 'utf8').replace(
      /^ +attestations: write.*\n/m,
      '',
    );
    const dir = mkdtempSync(join(tmpdir(), 'r2-backup-workflow-'));
    try {
      const copy = join(dir, file);
      writeFileSync(copy, yml);
      expect(await validate(copy)).toEqual([]);
      writeFileSync(copy, broken(yml));
      expect(await validate(copy)).toEqual([refusal]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

/** A Markdown table's rows as trimmed cells, whatever the column padding. */
const rows = (table: string): string[][] =>
  table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );

test('README.md has the input and output tables of action.yml', () => {
  const doc = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const tables = markdownTables(readFileSync(join(ROOT, 'action.yml'), 'utf8'));
  const section = (title: string): string => doc.split(`## ${title}\n`)[1]!.split('\n## ')[0]!;
  expect(rows(section('Inputs'))).toEqual(rows(tables.inputs));
  expect(rows(section('Outputs'))).toEqual(rows(tables.outputs));
});
