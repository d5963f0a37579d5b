// action/backup/tenant.ts resolveTarget: which tenant and bucket a run backs up to, and from where.
import { parseBucketMap } from '../../../action/inputs.js';
import { resolveTarget } from '../../../action/backup/tenant.js';

const map = parseBucketMap(
  'meauxbility: meauxbilitygithubconnect\n# comment\n\nautonomous-coding-agent: autonomous-coding-agent',
);
const ctx = (eventName: string, payload: Record<string, unknown> = {}) => ({
  eventName,
  payload,
  repositoryName: 'autonomous-coding-agent',
});

describe('resolveTarget', () => {
  test('the input wins over everything', () => {
    const target = resolveTarget(
      { tenant: 'meauxbility', bucketMap: map },
      ctx('repository_dispatch', { client_payload: { tenant: 'other' } }),
    );
    expect(target).toMatchObject({
      tenant: 'meauxbility',
      bucket: 'meauxbilitygithubconnect',
      bucketSource: 'bucket-map',
    });
  });
  test('workflow_dispatch input, then repository_dispatch client_payload, then the repository name', () => {
    expect(
      resolveTarget({ bucketMap: map }, ctx('workflow_dispatch', { inputs: { tenant: 'tenant-a' } })).tenant,
    ).toBe('tenant-a');
    expect(
      resolveTarget({ bucketMap: map }, ctx('workflow_dispatch', { inputs: { tenant: '' } })).tenant,
    ).toBe('autonomous-coding-agent');
    expect(
      resolveTarget(
        { bucketMap: map },
        ctx('repository_dispatch', { client_payload: { tenant: 'tenant-b' } }),
      ),
    ).toMatchObject({
      tenant: 'tenant-b',
      bucket: 'tenant-b-github-backup',
      tenantSource: 'client_payload.tenant',
    });
    // A push payload's fields never pick the tenant.
    expect(resolveTarget({ bucketMap: map }, ctx('push', { inputs: { tenant: 'x' } })).tenant).toBe(
      'autonomous-coding-agent',
    );
  });
  test('bucket: input, else map, else {tenant}-github-backup in lowercase', () => {
    expect(
      resolveTarget({ tenant: 'meauxbility', bucket: 'my-bucket', bucketMap: map }, ctx('push')).bucket,
    ).toBe('my-bucket');
    expect(resolveTarget({ tenant: 'My-Repo', bucketMap: map }, ctx('push')).bucket).toBe(
      'my-repo-github-backup',
    );
  });
  test('invalid values name their source', () => {
    expect(() =>
      resolveTarget({ bucketMap: map }, ctx('repository_dispatch', { client_payload: { tenant: '../x' } })),
    ).toThrow('Invalid tenant (from client_payload.tenant)');
    // A tenant of 50 characters leaves no room for -github-backup in R2's 63.
    expect(() => resolveTarget({ tenant: 'x'.repeat(50), bucketMap: map }, ctx('push'))).toThrow(
      'Invalid bucket (from the default {tenant}-github-backup)',
    );
  });
});
