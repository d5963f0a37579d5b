// Which tenant this backup belongs to and which bucket holds it, by the seed's rules.
import { DEFAULT_BUCKET_SOURCE, checkedDefaultBucket, repositoryTenant } from '../../common/naming.js';
import { checkBucket, checkTenant } from '../../common/validate.js';
import type { GitHubContext } from '../github-context.js';
import { BackupInputs } from '../constants.js';

export interface Target {
  tenant: string;
  bucket: string;
  /** Where each came from, for the log. */
  tenantSource: string;
  bucketSource: string;
}

const stringAt = (object: unknown, name: string): string | undefined => {
  const value = object && typeof object === 'object' ? (object as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
};

/**
 * Tenant: the input, else the workflow_dispatch input `tenant`, else the repository_dispatch
 * `client_payload.tenant`, else the repository's name. Bucket: the input, else the bucket
 * map, else `{tenant}-github-backup`. Both are validated here, before anything is uploaded.
 */
export function resolveTarget(
  input: { tenant?: string; bucket?: string; bucketMap: Map<string, string> },
  context: Pick<GitHubContext, 'eventName' | 'payload' | 'repositoryName'>,
): Target {
  let tenant = input.tenant;
  let tenantSource = `the ${BackupInputs.Tenant} input`;
  const dispatched =
    context.eventName === 'workflow_dispatch'
      ? stringAt(context.payload.inputs, 'tenant')
      : context.eventName === 'repository_dispatch'
        ? stringAt(context.payload.client_payload, 'tenant')
        : undefined;
  if (!tenant && dispatched) {
    tenant = dispatched;
    tenantSource =
      context.eventName === 'workflow_dispatch'
        ? 'the workflow_dispatch input tenant'
        : 'client_payload.tenant';
  }
  if (!tenant) {
    tenant = repositoryTenant({ name: context.repositoryName });
    tenantSource = "the repository's name";
  }
  checkTenant(tenant, `${BackupInputs.Tenant} (from ${tenantSource})`);

  let bucket: string;
  let bucketSource: string;
  if (input.bucket) [bucket, bucketSource] = [input.bucket, `the ${BackupInputs.Bucket} input`];
  else if (input.bucketMap.has(tenant))
    [bucket, bucketSource] = [input.bucketMap.get(tenant)!, BackupInputs.BucketMap];
  else {
    // R2 bucket names are lowercase; tenants may not be (common/naming.ts defaultBucket).
    bucketSource = DEFAULT_BUCKET_SOURCE;
    bucket = checkedDefaultBucket(
      tenant,
      `${BackupInputs.Bucket} (from ${bucketSource})`,
      `set the ${BackupInputs.Bucket} input (or a ${BackupInputs.BucketMap} line for the tenant), or a ${BackupInputs.Tenant} input that makes a valid name`,
    );
  }
  checkBucket(bucket, `${BackupInputs.Bucket} (from ${bucketSource})`);
  return { tenant, bucket, tenantSource, bucketSource };
}
