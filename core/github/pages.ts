// A list endpoint of GitHub's REST API, a page at a time (Link headers, through the pagination
// plugin), so that a caller writes each page out before the next is asked for and can stop early.
import type { GitHubApi } from './client.js';
import { isItem, type Item } from './jsonl.js';

const PER_PAGE = 100;

/** The objects of each page of `route` (`per_page` 100 unless `params` says otherwise). */
export async function* pages(
  api: GitHubApi,
  route: string,
  params: Record<string, unknown>,
): AsyncGenerator<Item[]> {
  const responses = api.paginate.iterator(
    route as never,
    { per_page: PER_PAGE, ...params } as never,
  ) as AsyncIterable<{
    data: unknown;
  }>;
  for await (const response of responses) {
    if (!Array.isArray(response.data)) throw new Error(`GitHub API ${route}: the answer is not a list`);
    yield response.data.filter(isItem);
  }
}
