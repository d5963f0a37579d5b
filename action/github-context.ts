// What the runner tells a step about its run: the GITHUB_* variables and the event payload
// (GITHUB_EVENT_PATH). Read once, so the rest of the action never touches process.env.
import { readFileSync } from 'node:fs';

export interface GitHubContext {
  eventName: string;
  payload: Record<string, unknown>;
  /** `owner/name`. */
  repository: string;
  repositoryName: string;
  branch: string;
  commit: string;
  actor?: string;
  runId?: string;
  runUrl?: string;
  workspace?: string;
}

type Env = Record<string, string | undefined>;

function readPayload(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch (error) {
    throw new Error(
      `Cannot read the event payload at GITHUB_EVENT_PATH (${path}): ${(error as Error).message}`,
    );
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const field = (object: unknown, name: string): unknown =>
  object && typeof object === 'object' ? (object as Record<string, unknown>)[name] : undefined;

/** refs/heads/x -> x; for pull requests the head branch; else the payload's or the default branch. */
function branchOf(env: Env, payload: Record<string, unknown>): string {
  const ref = text(env.GITHUB_REF) ?? text(payload.ref);
  if (env.GITHUB_HEAD_REF) return env.GITHUB_HEAD_REF;
  if (ref?.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref?.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length);
  return text(env.GITHUB_REF_NAME) ?? text(field(payload.repository, 'default_branch')) ?? 'main';
}

export function readGitHubContext(env: Env = process.env): GitHubContext {
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const repository =
    text(env.GITHUB_REPOSITORY) ?? text(field(payload.repository, 'full_name')) ?? 'unknown/unknown';
  const commit = text(env.GITHUB_SHA) ?? text(payload.after) ?? text(field(payload.head_commit, 'id')) ?? '';
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const runId = text(env.GITHUB_RUN_ID);
  const attempt = text(env.GITHUB_RUN_ATTEMPT);
  return {
    eventName: text(env.GITHUB_EVENT_NAME) ?? 'unknown',
    payload,
    repository,
    repositoryName: repository.split('/').pop()!,
    branch: branchOf(env, payload),
    commit,
    actor: text(env.GITHUB_ACTOR),
    runId,
    runUrl: runId
      ? `${server}/${repository}/actions/runs/${runId}${attempt && attempt !== '1' ? `/attempts/${attempt}` : ''}`
      : undefined,
    workspace: text(env.GITHUB_WORKSPACE),
  };
}
