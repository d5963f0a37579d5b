// action/github-context.ts: what a run is (branch, commit, run URL), from the runner's variables.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGitHubContext } from '../../action/github-context.js';

test('readGitHubContext: branch, commit and run URL from the runner variables and payload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctx-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ ref: 'refs/heads/feature/x', after: 'a'.repeat(40) }));
  expect(
    readGitHubContext({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: 'org/repo',
      GITHUB_RUN_ID: '7',
      GITHUB_RUN_ATTEMPT: '2',
    }),
  ).toMatchObject({
    branch: 'feature/x',
    commit: 'a'.repeat(40),
    repositoryName: 'repo',
    runUrl: 'https://github.com/org/repo/actions/runs/7/attempts/2',
  });
  expect(
    readGitHubContext({
      GITHUB_REF: 'refs/heads/develop',
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_REPOSITORY: 'o/r',
    }),
  ).toMatchObject({ branch: 'develop', commit: 'b'.repeat(40) });
});
