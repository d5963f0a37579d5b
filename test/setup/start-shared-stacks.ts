// jest globalSetup: one local stack (wrangler dev) per jest worker, for the suites that need no
// configuration of their own (test/helpers/shared-stack.ts): env `test`, an admin token and the
// local record signing key. A worker's stack starts when its first suite asks for it, through a
// small HTTP service on 127.0.0.1, so that a run of suites with stacks of their own starts none
// and a run of one suite starts one. The stacks are children of this process, which outlives the
// workers; the global teardown stops them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../scripts/local-stack.ts';
import { writeSharedStacks, type SharedStackAddress } from './shared-stacks-file.ts';

interface Service {
  server: Server;
  dir: string;
  /** By JEST_WORKER_ID. */
  stacks: Map<string, Promise<LocalStack>>;
}
// The teardown runs in this process, in a module of its own.
const holder = globalThis as { sharedStackService?: Service };

export default async function startSharedStacks(globalConfig: { maxWorkers: number }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'r2-backup-shared-stacks-'));
  const token = randomBytes(24).toString('hex');
  const stacks = new Map<string, Promise<LocalStack>>();
  const logFile = (worker: string): string => join(dir, `worker-${worker}.log`);

  const stackOf = (worker: string): Promise<LocalStack> => {
    let stack = stacks.get(worker);
    if (!stack) {
      stack = startLocalStack({ env: 'test', vars: { CLOUDCONNECT: token }, logFile: logFile(worker) });
      // A stack that failed to start is tried again by the next suite.
      stack.catch(() => stacks.delete(worker));
      stacks.set(worker, stack);
    }
    return stack;
  };

  const server = createServer((request, response) => {
    const worker = new URL(request.url ?? '/', 'http://localhost').searchParams.get('worker') ?? '';
    if (!/^[1-9]\d*$/.test(worker) || Number(worker) > globalConfig.maxWorkers) {
      response.writeHead(400).end(`worker must be a JEST_WORKER_ID from 1 to ${globalConfig.maxWorkers}`);
      return;
    }
    stackOf(worker).then(
      ({ url, s3Endpoint, persistTo, pid }) => {
        const address: SharedStackAddress = { url, s3Endpoint, persistTo, pid, logFile: logFile(worker) };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(address));
      },
      (error: Error) => response.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  holder.sharedStackService = { server, dir, stacks };
  const { port } = server.address() as AddressInfo;
  writeSharedStacks(join(dir, 'stacks.json'), { token, service: `http://127.0.0.1:${port}` });
}

/** Stops the stacks that were started and the service (the global teardown). */
export async function stopSharedStacks(): Promise<void> {
  const service = holder.sharedStackService;
  if (!service) return;
  delete holder.sharedStackService;
  service.server.closeAllConnections();
  await new Promise((resolve) => service.server.close(resolve));
  const started = await Promise.allSettled(service.stacks.values());
  await Promise.all(
    started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)),
  );
  rmSync(service.dir, { recursive: true, force: true });
}
