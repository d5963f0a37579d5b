// The S3 client for R2. Only object calls are ever made with it (Head/Put/multipart), so an
// R2 token scoped to one bucket, or to object operations, is enough.
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Attempts per request, retried with the SDK's exponential backoff (5xx, throttling, network). */
  maxAttempts?: number;
}

/** Commands whose body is data to store: archives, their parts, records. */
const BODY_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);

export function createS3Client(settings: S3Settings): S3Client {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    maxAttempts: settings.maxAttempts ?? 5,
    retryMode: 'standard',
    // R2 (and workerd) never answer `Expect: 100-continue`: uploads would stall.
    expectContinueHeader: false,
    // R2's endpoint does not take aws-chunked bodies with trailing checksums; integrity comes
    // from our own SHA-256 of the stream, recorded in the metadata.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // Over HTTPS, bodies go with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, as awscli and boto3 send
  // them: TLS already protects the bytes, and signing them costs one more SHA-256 pass over the
  // whole archive on the main thread (the signer hashes every part before sending it). The
  // archive's own SHA-256 is still computed and recorded. Over plain HTTP (local endpoints) the
  // signature keeps covering the body.
  if (new URL(settings.endpoint).protocol === 'https:') {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (BODY_COMMANDS.has(context.commandName ?? '') && request.headers)
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'unsignedPayloadOverTls' },
    );
  }
  return client;
}
