// Runs one syncMirror in its own process, so a test can kill it mid-sync (SIGKILL).
// Node runs this file directly (type stripping): node test/helpers/mirror-child.ts '<json>'
// with {endpoint, bucket, tenant, branch, root, concurrency}.
import '../../scripts/ts-resolve.ts';

const args = JSON.parse(process.argv[2]!) as {
  endpoint: string;
  bucket: string;
  tenant: string;
  branch: string;
  root: string;
  concurrency: number;
};
const { S3Client } = await import('@aws-sdk/client-s3');
const { syncMirror } = await import('../../core/mirror/sync.ts');
const s3 = new S3Client({
  endpoint: args.endpoint,
  forcePathStyle: true,
  region: 'auto',
  credentials: { accessKeyId: 'local-dev-key', secretAccessKey: 'local-dev-secret' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  expectContinueHeader: false,
});
const result = await syncMirror({ s3, excludes: [], ...args });
console.log(JSON.stringify(result));
