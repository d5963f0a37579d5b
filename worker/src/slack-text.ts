// Slack's message text: caller input is escaped, and the only link is one the Worker builds.
// Slack reads `<...>` as mentions (`<!channel>`) and links with any label (`<url|label>`), and
// asks senders to escape exactly `&`, `<` and `>`.
import type { BackupNotification } from '../../common/metadata.js';
import { checkHttpUrl } from '../../common/validate.js';

export const escapeSlack = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const RUN_PATH = /^\/([^/]+\/[^/]+)\/actions\/runs\/(\d{1,20})(\/attempts\/\d{1,10})?\/?$/;

/**
 * The run's link, rebuilt from the server and the notification's repository: only a run of
 * that repository on that server, with no credentials (common/validate.ts checkHttpUrl), query
 * or fragment, is linked.
 */
export function runLink(runUrl: string, repo: string, server = 'https://github.com'): string | undefined {
  let url: URL;
  let origin: string;
  try {
    url = new URL(checkHttpUrl(runUrl, 'run_url'));
    origin = new URL(server).origin;
  } catch {
    return undefined; // a run URL refused by checkHttpUrl, or a malformed GITHUB_SERVER_URL
  }
  const match = RUN_PATH.exec(url.pathname);
  if (url.origin !== origin || url.search || url.hash) return undefined;
  if (!match || match[1]!.toLowerCase() !== repo.toLowerCase()) return undefined;
  // repo passed checkRepo ([A-Za-z0-9_.-]), so neither it nor the digits can end the link.
  return `<${url.origin}/${repo}/actions/runs/${match[2]}${match[3] ?? ''}|Open the run>`;
}

const ICONS = { success: ':white_check_mark:', failure: ':x:', cancelled: ':warning:' } as const;

export function slackText(n: BackupNotification, server?: string): string {
  const e = escapeSlack;
  const lines = [
    `${ICONS[n.status]} ${n.kind === 'drill' ? 'Restore drill' : 'Backup'} ${n.status}: ${e(n.repo)} (tenant ${e(n.tenant)}) on ${e(n.branch)} at ${e(n.commit.slice(0, 12))}`,
  ];
  if (n.backup_file) lines.push(`Archive: ${e(`${n.bucket}/backups/${n.tenant}/${n.backup_file}`)}`);
  if (n.message) lines.push(e(n.message));
  if (n.run_url) {
    lines.push(
      `Run: ${runLink(n.run_url, n.repo, server) ?? `run URL not shown (not a GitHub Actions run of ${e(n.repo)})`}`,
    );
  }
  return lines.join('\n');
}
