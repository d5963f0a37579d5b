// core/errors.ts: the README entry and the CLI exit code each kind of error gets, and the request
// and attempts a given-up retry is reported with. The end-to-end cases are in
// test/cli/explained-errors.test.ts and test/faults/gave-up.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/local-stack.js';
import { ValidationError } from '../../common/validate.js';
import { checkedDefaultBucket } from '../../common/naming.js';
import {
  EXIT,
  NotFoundError,
  TROUBLESHOOTING,
  endSentence,
  exitCodeOf,
  explain,
  troubleshootingOf,
  withFix,
} from '../../core/errors.js';
import { withRetries } from '../../core/retry.js';
import { WorkerApiError, WorkerUnreachableError } from '../../core/worker-api/client.js';

const refused = (status: number, reason?: string): WorkerApiError =>
  new WorkerApiError(status, `GET /x: ${status}`, undefined, reason);
const connectionRefused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
  code: 'ECONNREFUSED',
});

test('every entry an error can point to is a bold entry of README.md Troubleshooting', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Troubleshooting'));
  for (const entry of Object.values(TROUBLESHOOTING)) expect(section).toContain(`**${entry}**`);
});

test('each refusal points to its entry', () => {
  expect(troubleshootingOf(refused(401))).toBe('unauthorized');
  expect(troubleshootingOf(refused(403, 'not allowed to use bucket b'))).toBe('forbidden');
  expect(troubleshootingOf(refused(403, 'prune needs the maintain role for tenant t'))).toBe('maintain');
  expect(troubleshootingOf(new WorkerApiError(404, 'x', undefined, undefined, undefined, 'b'))).toBe(
    'bucketNotFound',
  );
  expect(troubleshootingOf(new WorkerUnreachableError('http://w', connectionRefused))).toBe('unreachable');
  expect(troubleshootingOf(refused(503))).toBe('network');
  expect(troubleshootingOf(refused(409))).toBeUndefined();
  expect(troubleshootingOf(new Error('anything else'))).toBeUndefined();
  let invalid: unknown;
  try {
    checkedDefaultBucket('x'.repeat(50), 'bucket', 'set bucket');
  } catch (error) {
    invalid = error;
  }
  expect(troubleshootingOf(invalid)).toBe('defaultBucket');
  // A wrapping error points where its cause does.
  expect(troubleshootingOf(new Error('not recorded', { cause: refused(401) }))).toBe('unauthorized');
});

test('exit codes: 2 usage, 3 refused or not found, 4 network or server, 1 otherwise', () => {
  expect(exitCodeOf(new ValidationError('tenant', 'must be'))).toBe(EXIT.usage);
  expect(exitCodeOf(refused(400))).toBe(EXIT.usage);
  for (const status of [401, 403, 404]) expect(exitCodeOf(refused(status))).toBe(EXIT.refused);
  expect(exitCodeOf(new NotFoundError('No backup x'))).toBe(EXIT.refused);
  expect(exitCodeOf(Object.assign(new Error('denied'), { name: 'AccessDenied' }))).toBe(EXIT.refused);
  expect(exitCodeOf(refused(500))).toBe(EXIT.unavailable);
  expect(exitCodeOf(refused(429))).toBe(EXIT.unavailable);
  expect(exitCodeOf(new WorkerUnreachableError('http://w', connectionRefused))).toBe(EXIT.unavailable);
  // An S3 error whose retries ran without an HTTP answer.
  expect(exitCodeOf(Object.assign(new Error('Premature close'), { $metadata: { attempts: 5 } }))).toBe(
    EXIT.unavailable,
  );
  expect(exitCodeOf(new Error('SHA-256 does not match'))).toBe(EXIT.problems);
});

test('a request retries gave up on is named with its attempts', async () => {
  let calls = 0;
  const error = await withRetries(
    () => {
      calls++;
      return Promise.reject(new WorkerUnreachableError('http://w', connectionRefused));
    },
    { attempts: 3, baseDelayMs: 1, isTransient: () => true, what: 'mpu-uploadpart k part 3' },
  ).catch((e: unknown) => e);
  expect(calls).toBe(3);
  expect(explain(error)).toBe(
    'mpu-uploadpart k part 3 failed after 3 attempts: The Worker at http://w cannot be reached: ' +
      'connect ECONNREFUSED 127.0.0.1:9. See README.md, Troubleshooting: "A request failed after its retries".',
  );
  // A refusal is not retried: no attempts to report.
  const once = await withRetries(() => Promise.reject(refused(403, 'r')), {
    attempts: 3,
    isTransient: () => false,
    what: 'x',
  }).catch((e: unknown) => e);
  expect(explain(once)).toBe(
    'GET /x: 403. See README.md, Troubleshooting: "Forbidden (403): not allowed to use bucket or tenant".',
  );
});

test('a sentence ends once, whatever it ended with', () => {
  expect(endSentence('bound?')).toBe('bound?');
  expect(endSentence('stored.  ')).toBe('stored.');
  expect(endSentence('refused')).toBe('refused.');
  expect(withFix('no fix known', new Error('x'))).toBe('no fix known');
});
