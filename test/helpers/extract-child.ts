// Runs one safeExtract in a process of its own, so that a test can read its peak memory.
// Node runs this file directly (type stripping): node test/helpers/extract-child.ts ARCHIVE COMPRESSION TARGET
// Prints one JSON line: the outcome (the error's message, or "restored") and the peak RSS.
import '../../scripts/ts-resolve.ts';
import { createReadStream } from 'node:fs';
import type { Compression } from '../../common/validate.ts';

const { safeExtract } = await import('../../core/restore/extract.ts');
const [archive, compression, target] = process.argv.slice(2) as [string, Compression, string];
const outcome = await safeExtract(createReadStream(archive), compression, target).then(
  () => 'restored',
  (error: Error) => error.message,
);
// maxRSS is in kibibytes.
console.log(JSON.stringify({ outcome, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
