// A previous export is read as hostile: lines that are not objects with an integer key are
// ignored, asset files are taken only as regular files at the layout's paths (no symlink, at any
// step), no path is made from its text, and a manifest that is not one is no previous export.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { assetPath, kindFile, MANIFEST_FILE } from '../../core/github/export-format.js';
import {
  FULL_NAME,
  HOUR,
  MINUTE,
  readExport,
  runExport,
  startWorld,
  type ExportRun,
  type World,
} from './helpers.js';

let world: World;
let outside: string;
let first: ExportRun;
beforeEach(async () => {
  world = await startWorld();
  world.github.seed(FULL_NAME, { issues: 3, pulls: 1, labels: 1, releases: 2, assetsPerRelease: 1 });
  world.advance(10 * MINUTE);
  first = await runExport(world);
  world.advance(HOUR);
  outside = await mkdtemp(join(tmpdir(), 'outside-'));
});
afterEach(async () => {
  await world.github.stop();
  await rm(outside, { recursive: true, force: true });
});

const SECRET = 'outside the export: must not be read into it';

describe('a hostile previous export', () => {
  test('bad lines are ignored, symlinked assets are refused, nothing outside the directories is touched', async () => {
    const [r1, r2] = world.github.repo(FULL_NAME).releases;
    const a1 = r1!.assets[0]!;
    const a2 = r2!.assets[0]!;
    // The first asset's file: a symlink to a file outside. The second's directory: a symlink to a
    // directory outside holding a file of that name.
    const outsideFile = join(outside, 'secret');
    await writeFile(outsideFile, SECRET);
    await rm(join(first.dir, assetPath(r1!.id, a1.id)));
    await symlink(outsideFile, join(first.dir, assetPath(r1!.id, a1.id)));
    await mkdir(join(outside, 'dir'));
    await writeFile(join(outside, 'dir', String(a2.id)), SECRET);
    await rm(dirname(join(first.dir, assetPath(r2!.id, a2.id))), { recursive: true });
    await symlink(join(outside, 'dir'), dirname(join(first.dir, assetPath(r2!.id, a2.id))));
    await appendFile(
      join(first.dir, kindFile('issues')),
      [
        'not json at all',
        '[1, 2, 3]',
        '{"number": "12", "title": "a key that is text"}',
        '{"number": 1.5, "title": "not an integer"}',
        '{"number": -3, "title": "not positive"}',
        '{"title": "no key"}',
        '{"number": 999, "title": "an object with an integer key is an item"}',
        '',
      ].join('\n'),
    );
    await appendFile(
      join(first.dir, kindFile('releases')),
      [
        '{"id": "../../escaped", "assets": [{"id": 1, "size": 1, "updated_at": "x"}]}',
        '{"id": 77, "tag_name": "v0", "assets": [{"id": "../../escaped", "size": 3, "name": "../../escaped"}, "x"]}',
        '',
      ].join('\n'),
    );

    const second = await runExport(world, { previous: first });
    const content = await readExport(second.dir);

    expect(second.manifest.partial).toBe(false);
    expect(second.logs).toContain(
      'Previous metadata export: 7 lines ignored (not an object with an integer key)',
    );
    expect(content.kinds.issues.map((i) => i.number)).toContain(999);
    expect(content.kinds.issues.some((i) => typeof i.number !== 'number')).toBe(false);
    // Both refused files were downloaded again, with GitHub's bytes.
    expect(world.github.requests.count({ listener: 'downloads' })).toBe(4);
    expect(content.assets.get(assetPath(r1!.id, a1.id))!.equals(a1.bytes)).toBe(true);
    expect(content.assets.get(assetPath(r2!.id, a2.id))!.equals(a2.bytes)).toBe(true);
    // Outside: as it was (nothing moved out, nothing written), and no `escaped` anywhere near.
    expect(await readFile(outsideFile, 'utf8')).toBe(SECRET);
    expect((await readdir(outside)).sort()).toEqual(['dir', 'secret']);
    expect(await readdir(join(outside, 'dir'))).toEqual([String(a2.id)]);
    for (const dir of [second.dir, first.dir, outside])
      expect((await readdir(dir, { recursive: true })).some((name) => name.includes('escaped'))).toBe(false);
    // The release that only the previous export had (id 77) is kept, marked; its bad asset is not.
    expect(content.kinds.releases.find((r) => r.id === 77)).toMatchObject({
      r2_backup_missing_since: second.manifest.exported_at,
    });
    expect([...content.assets.keys()].every((path) => /^assets\/\d+\/\d+$/.test(path))).toBe(true);
  });

  test('a manifest that is a symlink, or of another repository, is no previous export', async () => {
    const elsewhere = join(outside, MANIFEST_FILE);
    await writeFile(elsewhere, await readFile(join(first.dir, MANIFEST_FILE)));
    await rm(join(first.dir, MANIFEST_FILE));
    await symlink(elsewhere, join(first.dir, MANIFEST_FILE));
    const linked = await runExport(world, { previous: first });
    expect(linked.logs[0]).toMatch(
      /^Previous metadata export \(.*\) ignored: no manifest\.json; exporting everything$/,
    );
    expect(linked.manifest.carried_from).toBeUndefined();
    expect(world.github.requests.count({ path: /\/reviews(\?|$)/ })).toBe(2); // fetched again

    const other = JSON.parse(await readFile(join(linked.dir, MANIFEST_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(linked.dir, MANIFEST_FILE),
      JSON.stringify({ ...other, repository: 'someone/else' }),
    );
    const again = await runExport(world, { previous: linked });
    expect(again.logs[0]).toMatch(/ignored: it is the export of another repository/);
    expect(again.manifest.carried_from).toBeUndefined();
  });

  test('cursors that are not times, and pending reviews that are not numbers, are dropped', async () => {
    const manifest = JSON.parse(await readFile(join(first.dir, MANIFEST_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(
      join(first.dir, MANIFEST_FILE),
      JSON.stringify({
        ...manifest,
        cursors: {
          ...(manifest.cursors as object),
          issues: '../../etc',
          issue_comments: 5,
          pulls: '2026-13-45T99:99:99Z',
          pending_reviews: ['1', -1, 2.5, 4],
        },
      }),
    );
    world.github.requests.reset();
    const second = await runExport(world, { previous: first });
    // Issues, comments and pulls listed from the start (no since=); reviews of pull 4 (pending) only
    // once though it is also listed again.
    const since = world.github.requests.filter({ path: /since=/ }).map((r) => r.path.split('?')[0]);
    expect(since).toEqual([`/repos/${FULL_NAME}/pulls/comments`]);
    expect(world.github.requests.count({ path: /\/reviews(\?|$)/ })).toBe(1);
    expect(second.manifest.partial).toBe(false);
  });
});
