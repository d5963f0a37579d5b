// The action over HTTPS, as against R2 itself: a TLS proxy with its own certificate authority
// (trusted through NODE_EXTRA_CA_CERTS, as a runner behind a corporate proxy would) in front of
// the local S3 endpoint. Over TLS the archive's bytes go unsigned (`UNSIGNED-PAYLOAD`, what
// awscli sends over HTTPS), over plain HTTP the signature covers them.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB } from '../../core/upload/uploader.js';
import { LOCAL_S3_CREDENTIALS, type LocalStack } from '../../scripts/local-stack.js';
import { sharedStack } from '../helpers/shared-stack.js';
import { aws, runAction } from './helpers.js';

interface Seen {
  method: string;
  path: string;
  payloadHash: string;
}

interface Proxy {
  /** The S3 endpoint through the proxy. */
  endpoint: string;
  seen: Seen[];
  close: () => Promise<void>;
}

let stack: LocalStack;
let certificate: { key: string; cert: string; file: string };
/** Temporary directories: the certificate's, the trees, the downloads. */
const made: string[] = [];
const temporary = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};

beforeAll(async () => {
  stack = await sharedStack();
  // A self-signed certificate for 127.0.0.1, made by openssl for this run only.
  const dir = temporary('r2-backup-tls-');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  certificate = {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    file: join(dir, 'cert.pem'),
  };
});
afterAll(async () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Forwards every request to the local stack unchanged (Host included, which the signature
 *  covers) and records what each one declared about its body. */
async function startProxy(tls: boolean): Promise<Proxy> {
  const target = new URL(stack.url);
  const seen: Seen[] = [];
  const forward = (incoming: IncomingMessage, response: ServerResponse) => {
    seen.push({
      method: incoming.method!,
      path: incoming.url!,
      payloadHash: String(incoming.headers['x-amz-content-sha256']),
    });
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => response.destroy(error));
    incoming.pipe(upstream);
  };
  const server = tls ? createHttpsServer(certificate, forward) : createHttpServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/cdn-cgi/local/r2/s3`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A tree of one incompressible file: three parts of 5 MiB, so UploadPart carries the bytes. */
function tree(): string {
  const dir = temporary('r2-backup-tls-tree-');
  writeFileSync(join(dir, 'random.bin'), randomBytes(12 * MIB));
  return dir;
}

test.each([
  { scheme: 'https', tls: true, bodies: 'unsigned', bodyHash: /^UNSIGNED-PAYLOAD$/ },
  { scheme: 'http', tls: false, bodies: 'signed', bodyHash: /^[0-9a-f]{64}$/ },
])('over $scheme the archive is stored whole, its bodies $bodies', async ({ tls, bodyHash }) => {
  const proxy = await startProxy(tls);
  try {
    const run = await runAction({
      inputs: {
        path: tree(),
        tenant: 'tenant-a',
        bucket: 'my-bucket',
        'r2-endpoint': proxy.endpoint,
        'r2-access-key-id': LOCAL_S3_CREDENTIALS.accessKeyId,
        'r2-secret-access-key': LOCAL_S3_CREDENTIALS.secretAccessKey,
        'part-size-mib': '5',
      },
      event: 'workflow_dispatch',
      env: tls ? { NODE_EXTRA_CA_CERTS: certificate.file } : {},
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    // The object as awscli reads it straight from the stack: the bytes the action hashed.
    const key = run.outputs['backup-key']!;
    const file = join(temporary('r2-backup-tls-get-'), 'archive');
    await aws(stack, 's3', 'cp', `s3://my-bucket/${key}`, file, '--only-show-errors');
    const bytes = readFileSync(file);
    expect(run.outputs.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(bytes.length).toBeGreaterThan(12 * MIB);

    // Every PutObject (the claim, the records) and UploadPart declared its body as expected; the
    // other requests (create and complete the upload, heads) are signed with their bodies' hash.
    const parts = proxy.seen.filter((s) => s.method === 'PUT' && /[?&]partNumber=/.test(s.path));
    const puts = proxy.seen.filter((s) => s.method === 'PUT');
    expect(parts).toHaveLength(3);
    for (const put of puts) expect(put.payloadHash).toMatch(bodyHash);
    const others = proxy.seen.filter((s) => s.method !== 'PUT');
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) expect(other.payloadHash).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    await proxy.close();
  }
});
