// worker/src/slack-text.ts runLink: which run URLs become a link. The URL itself passes the one
// URL check (common/validate.ts checkHttpUrl); the server, path, query and fragment rules are
// the link's own.
import { runLink } from '../../worker/src/slack-text.js';

const RUN = 'https://github.com/owner/repo/actions/runs/123';

describe('runLink', () => {
  test('a run of the repository on the server is linked, as the Worker spells it', () => {
    expect(runLink(RUN, 'owner/repo')).toBe(`<${RUN}|Open the run>`);
    expect(runLink(`${RUN}/attempts/2/`, 'Owner/Repo')).toBe(
      '<https://github.com/Owner/Repo/actions/runs/123/attempts/2|Open the run>',
    );
    expect(runLink('https://ghe.example/o/r/actions/runs/9', 'o/r', 'https://ghe.example/')).toBe(
      '<https://ghe.example/o/r/actions/runs/9|Open the run>',
    );
  });

  test.each([
    ['credentials', 'https://user:pw@github.com/owner/repo/actions/runs/123'],
    ['an empty user part', 'https://@github.com/owner/repo/actions/runs/123'],
    ['credentials the parser hides', 'https://us\ter:pw@github.com/owner/repo/actions/runs/123'],
    ['no URL', 'not a url'],
    ['another scheme', 'ftp://github.com/owner/repo/actions/runs/123'],
    ['another server', 'https://evil.example/owner/repo/actions/runs/123'],
    ['another repository', 'https://github.com/attacker/repo/actions/runs/123'],
    ['no run path', 'https://github.com/owner/repo/pulls'],
    ['a query', `${RUN}?next=x`],
    ['a fragment', `${RUN}#x`],
  ])('a run URL with %s is not linked', (_what, url) => {
    expect(runLink(url, 'owner/repo')).toBeUndefined();
  });

  test('a malformed server links nothing', () => {
    expect(runLink(RUN, 'owner/repo', 'not a url')).toBeUndefined();
  });
});
