// Prints CHANGELOG.md's section for one version: the release workflow's release notes.
// Usage: node scripts/release/changelog-entry.ts 1.2.0
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../local-stack.ts';
import { changelogEntry } from './changelog.ts';

const version = process.argv[2] ?? '';
const entry = changelogEntry(readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8'), version);
if (!entry) {
  console.error(`CHANGELOG.md has no section "## [${version}]" with entries`);
  process.exit(1);
}
console.log(entry);
