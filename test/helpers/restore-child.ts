// Runs one restoreArchive in its own process whose download sends a few bytes and then stalls,
// so that a test can interrupt it (SIGINT, SIGTERM) while its staging directory exists.
// Node runs this file directly (type stripping): node test/helpers/restore-child.ts TARGET
import '../../scripts/ts-resolve.ts';
import { Readable } from 'node:stream';

const { restoreArchive } = await import('../../core/restore/archive.ts');
const stalled = new Readable({ read() {} });
// A stalled socket keeps a process alive; a stalled stream alone does not.
setInterval(() => {}, 1000);
stalled.push(Buffer.alloc(4096));
console.log('downloading');
await restoreArchive({
  open: async () => stalled,
  compression: 'none',
  expected: { sha256: '0'.repeat(64), size: 1 << 20 },
  target: process.argv[2]!,
  names: { force: '--force', allowUnverified: '--allow-unverified', maxBytes: '--max-bytes' },
});
