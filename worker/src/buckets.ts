// Bucket name -> R2 binding. The binding R2_<BUCKET_NAME_IN_UPPER_SNAKE> serves the bucket of
// that name, so adding a bucket is a wrangler.toml change, never a code change.
import { checkBucket } from '../../common/validate.js';
import type { Env } from './env.js';
import { HttpError } from './http.js';

export const FALLBACK_BUCKET = 'autonomous-coding-agent';

export const bindingName = (bucket: string): string => `R2_${bucket.toUpperCase().replace(/-/g, '_')}`;

/** The validated bucket name a request means: its own, or the configured default. */
export function bucketName(env: Env, requested: string | undefined): string {
  return checkBucket(requested ?? env.DEFAULT_BUCKET ?? FALLBACK_BUCKET);
}

export function isR2Bucket(value: unknown): value is R2Bucket {
  const candidate = value as Partial<R2Bucket> | undefined;
  return typeof candidate?.list === 'function' && typeof candidate.put === 'function';
}

/** The binding for a validated bucket name; 404 when this Worker does not serve it. */
export function bucketBinding(env: Env, name: string): R2Bucket {
  const binding = env[bindingName(name)];
  if (!isR2Bucket(binding)) throw new HttpError(404, 'Bucket not found', { bucket: name });
  return binding;
}

/** Every bucket this Worker binds, by name (the cron's sweep and alarms go over all of them). */
export function boundBuckets(env: Env): { bucket: string; binding: R2Bucket }[] {
  return Object.entries(env)
    .filter(([name, value]) => name.startsWith('R2_') && isR2Bucket(value))
    .map(([name, value]) => ({
      bucket: name.slice(3).toLowerCase().replace(/_/g, '-'),
      binding: value as R2Bucket,
    }));
}
