// Shared by the fault suites: their setup (stack, proxy, fixture tree), the action's timeouts
// shortened for tests, and what a run left in the bucket, seen with awscli (an independent client).
import { rmSync } from 'node:fs';
import { aws, listObjects, makeFixtureTree } from '../action/helpers.js';
import type { LocalStack } from '../../scripts/local-stack.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { sharedStack } from '../helpers/shared-stack.js';

export interface FaultSuite {
  stack: LocalStack;
  /** In front of the stack's port (the Worker and its S3 endpoint). */
  proxy: FaultProxy;
  /** A fixture tree of random bytes. */
  tree: string;
}

/** Registers a fault suite's hooks: this worker's shared stack, a fault proxy in front of it and
 *  a fixture tree of `treeBytes`, made before the suite and removed after it; the proxy's record
 *  is cleared before each test. The fields are set once the suite's first hook has run. */
export function faultSuite(treeBytes: number): FaultSuite {
  const suite = {} as FaultSuite;
  beforeAll(async () => {
    suite.stack = await sharedStack();
    suite.proxy = await startFaultProxy(Number(new URL(suite.stack.url).port));
    suite.tree = makeFixtureTree(treeBytes);
  });
  afterAll(async () => {
    await suite.proxy?.close();
    if (suite.tree) rmSync(suite.tree, { recursive: true, force: true });
  });
  beforeEach(() => suite.proxy.clear());
  return suite;
}

/** The timeouts of core/retry.ts (README: Troubleshooting), short enough for a test. */
export const SHORT_TIMEOUTS: Record<string, string> = {
  R2_BACKUP_CONNECT_TIMEOUT_MS: '2000',
  R2_BACKUP_IDLE_TIMEOUT_MS: '3000',
  R2_BACKUP_REQUEST_TIMEOUT_MS: '10000',
  R2_BACKUP_RETRY_AFTER_MAX_MS: '4000',
  R2_BACKUP_RETRY_BASE_MS: '200',
};

export interface StoredObject {
  Key: string;
  Size: number;
}

export const objects = (stack: LocalStack, bucket: string, prefix: string): Promise<StoredObject[]> =>
  listObjects(stack, bucket, prefix);

export const isArchive = (key: string): boolean => !/\/(metadata|notifications)\//.test(key);

/**
 * What a run must leave: every archive non-empty (no empty claims) and recorded (a metadata
 * record beside it when `recorded`), and every multipart upload the proxy saw finished or
 * aborted (the local endpoint has no ListMultipartUploads: each id is tried with UploadPart).
 */
export async function expectCleanBucket(
  stack: LocalStack,
  bucket: string,
  tenant: string,
  proxy: FaultProxy,
  recorded: boolean,
): Promise<StoredObject[]> {
  const all = await objects(stack, bucket, `backups/${tenant}/`);
  const archives = all.filter((o) => isArchive(o.Key));
  for (const archive of archives) {
    expect(archive).toEqual(expect.objectContaining({ Size: expect.any(Number) }));
    expect(archive.Size).toBeGreaterThan(0);
    if (recorded) {
      const file = archive.Key.split('/').pop()!;
      expect(all.map((o) => o.Key)).toContain(`backups/${tenant}/metadata/${file}.json`);
    }
  }
  const ids = new Map<string, string>();
  for (const { url } of proxy.seen) {
    const id = /[?&]uploadId=([^&]+)/.exec(url)?.[1];
    const key = (new RegExp(`/s3/${bucket}/([^?]+)`).exec(url) ?? /[?&]key=([^&]+)/.exec(url))?.[1];
    if (id && key) ids.set(decodeURIComponent(id), decodeURIComponent(key));
  }
  for (const [id, key] of ids) {
    const tried = await aws(
      stack,
      's3api',
      'upload-part',
      '--bucket',
      bucket,
      // `=` form: an upload id may begin with '-', which awscli would read as an option.
      `--key=${key}`,
      `--upload-id=${id}`,
      '--part-number',
      '9',
    ).then(
      () => 'open',
      (error: Error) =>
        /NoSuchUpload|404|InternalError|not found/i.test(String(error)) ? 'gone' : String(error),
    );
    expect([id, tried]).toEqual([id, 'gone']);
  }
  return archives;
}

/** Nothing that was completed was deleted afterwards: no DeleteObject (a DELETE without uploadId). */
export function expectNoObjectDeleted(proxy: FaultProxy): void {
  const deletes = proxy.seen.filter((r) => r.method === 'DELETE' && !/uploadId=/.test(r.url));
  expect(deletes).toEqual([]);
}
