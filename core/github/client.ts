// The GitHub REST client of core/ and the CLI: Octokit's core with pagination. The action may pass
// the Octokit of @actions/github's getOctokit instead (the same @octokit/core), hence a type that
// asks for no more than what the exporter and replay use.
import { Octokit } from '@octokit/core';
import { paginateRest, type PaginateInterface } from '@octokit/plugin-paginate-rest';

/** What the exporter and replay need of a GitHub client: requests, hooks, pagination. */
export type GitHubApi = Octokit & { paginate: PaginateInterface };

export const GITHUB_API_URL = 'https://api.github.com';

export interface GitHubClientOptions {
  /** A token (the job's GITHUB_TOKEN or a personal token); sent as a header, never logged. */
  token: string;
  /** The REST API's root: https://api.github.com, or a GitHub Enterprise Server's /api/v3. */
  baseUrl?: string;
  userAgent?: string;
}

const PaginatedOctokit = Octokit.plugin(paginateRest);

export function createGitHubClient({ token, baseUrl, userAgent }: GitHubClientOptions): GitHubApi {
  if (!token) throw new Error('A GitHub token is needed (github-token)');
  return new PaginatedOctokit({
    auth: token,
    baseUrl: (baseUrl ?? GITHUB_API_URL).replace(/\/+$/, ''),
    userAgent: userAgent ?? 'r2-backup',
    // Octokit's default logger writes deprecation and 4xx notes to the console; the exporter
    // reports what matters itself.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
}
