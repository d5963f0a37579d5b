// The objects stored beside an archive (git bundle, metadata export, wiki bundle, LFS list) and
// LFS objects: their names, how the Worker's upload route and the record parser check them.
import {
  bundleFileName,
  lfsListFileName,
  lfsObjectKey,
  metaFileName,
  wikiFileName,
} from '../../common/naming.js';
import { parseBackupMetadataInput } from '../../common/record-input.js';
import { checkCompanionFile, companionKindOf, isBundleFile, ValidationError } from '../../common/validate.js';
import { downloadKey, uploadKey } from '../../worker/src/object-keys.js';

const OID = 'ab'.repeat(32);

describe('companion names', () => {
  test.each([
    [
      '20250101-120000.tar.gz',
      '20250101-120000.meta.tar.zst',
      '20250101-120000.wiki.bundle',
      '20250101-120000.lfs.json',
    ],
    [
      '20250101-120000-2.tar.zst.age',
      '20250101-120000-2.meta.tar.zst.age',
      '20250101-120000-2.wiki.bundle.age',
      '20250101-120000-2.lfs.json.age',
    ],
  ])('%s -> %s, %s, %s', (archive, meta, wiki, lfs) => {
    expect([metaFileName(archive), wikiFileName(archive), lfsListFileName(archive)]).toEqual([
      meta,
      wiki,
      lfs,
    ]);
  });

  test('each companion is recognised as its own kind; a wiki bundle is not the git bundle', () => {
    const archive = '20250101-120000.tar.gz';
    expect(companionKindOf(bundleFileName(archive))).toBe('bundle');
    expect(companionKindOf(metaFileName(archive))).toBe('meta');
    expect(companionKindOf(wikiFileName(archive))).toBe('wiki');
    expect(companionKindOf(lfsListFileName(archive))).toBe('lfs');
    expect(isBundleFile(wikiFileName(archive))).toBe(false);
    expect(isBundleFile(`backups/tenant-a/${bundleFileName(archive)}`)).toBe(true);
    expect(companionKindOf(`backups/tenant-a/${metaFileName(archive)}`)).toBe('meta');
    expect(companionKindOf(archive)).toBeUndefined();
    expect(companionKindOf('20250101-120000.meta.tar.gz')).toBeUndefined();
    expect(checkCompanionFile('t-20250101-120000.wiki.bundle.age', 't')).toEqual({
      kind: 'wiki',
      encrypted: true,
    });
    expect(() => checkCompanionFile('other-20250101-120000.wiki.bundle', 't')).toThrow(ValidationError);
  });
});

describe("the Worker's object keys", () => {
  test('uploads take archives, their companions and LFS objects of the tenant', () => {
    for (const key of [
      'backups/t/20250101-120000.tar.gz',
      'backups/t/20250101-120000.meta.tar.zst',
      'backups/t/20250101-120000.wiki.bundle.age',
      'backups/t/20250101-120000.lfs.json',
    ]) {
      expect(uploadKey(key)).toEqual({ key, tenant: 't' });
    }
    // An LFS object's bytes must hash to its oid (uploads.ts has R2 check it).
    const lfs = lfsObjectKey('t', OID);
    expect(uploadKey(lfs)).toEqual({ key: lfs, tenant: 't', sha256: OID });
  });

  test.each([
    ['an LFS key that is not a SHA-256', 'lfs/t/abc'],
    ['an LFS key with upper case', `lfs/t/${OID.toUpperCase()}`],
    ['an LFS key below the oid', `lfs/t/${OID}/x`],
    ['a record', 'backups/t/metadata/20250101-120000.tar.gz.json'],
    ['another root', 'repos/t/main/file'],
    ['a name that is neither archive nor companion', 'backups/t/20250101-120000.exe'],
    ['a traversal', `lfs/t/../u/${OID}`],
  ])('refuses %s', (_what, key) => {
    expect(() => uploadKey(key)).toThrow(ValidationError);
  });

  test('downloads read LFS objects of the tenant, and only by oid', () => {
    expect(downloadKey(lfsObjectKey('t', OID)).tenant).toBe('t');
    expect(() => downloadKey('lfs/t/notanoid')).toThrow(ValidationError);
  });
});

describe('record fields of the companions', () => {
  const base = {
    tenant: 't',
    repo: 'o/r',
    branch: 'main',
    commit: 'a'.repeat(40),
    action: 'upload',
    backup_file: '20250101-120000.tar.gz',
  };
  const sha = 'c'.repeat(64);

  test('key, size and SHA-256 of each, with the export counts and partial flag', () => {
    const parsed = parseBackupMetadataInput({
      ...base,
      meta_key: 'backups/t/20250101-120000.meta.tar.zst',
      meta_size: 10,
      meta_sha256: sha,
      meta_counts: { issues: 3, pulls: 1, assets: 0 },
      meta_partial: true,
      wiki_key: 'backups/t/20250101-120000.wiki.bundle',
      wiki_size: 5,
      wiki_sha256: sha,
      lfs_key: 'backups/t/20250101-120000.lfs.json',
      lfs_size: 7,
      lfs_sha256: sha,
      lfs_count: 2,
      lfs_bytes: 2048,
    });
    expect(parsed).toMatchObject({
      meta_counts: { issues: 3, pulls: 1, assets: 0 },
      meta_partial: true,
      lfs_count: 2,
    });
    expect(parsed.wiki_key).toBe('backups/t/20250101-120000.wiki.bundle');
  });

  test.each([
    [
      'a key not beside the archive',
      { meta_key: 'backups/t/20250101-120001.meta.tar.zst', meta_size: 1, meta_sha256: sha },
      'meta_key',
    ],
    [
      'a key without its size',
      { wiki_key: 'backups/t/20250101-120000.wiki.bundle', wiki_sha256: sha },
      'wiki_size',
    ],
    ['counts without a key', { meta_counts: { issues: 1 } }, 'meta_key'],
    [
      'a negative count',
      {
        meta_key: 'backups/t/20250101-120000.meta.tar.zst',
        meta_size: 1,
        meta_sha256: sha,
        meta_counts: { issues: -1 },
      },
      'meta_counts.issues',
    ],
    [
      'a count kind that is not a name',
      {
        meta_key: 'backups/t/20250101-120000.meta.tar.zst',
        meta_size: 1,
        meta_sha256: sha,
        meta_counts: { '../x': 1 },
      },
      'meta_counts',
    ],
    [
      'partial that is not a boolean',
      {
        meta_key: 'backups/t/20250101-120000.meta.tar.zst',
        meta_size: 1,
        meta_sha256: sha,
        meta_partial: 'yes',
      },
      'meta_partial',
    ],
  ])('refuses %s, naming the field', (_what, fields, field) => {
    expect(() => parseBackupMetadataInput({ ...base, ...fields })).toThrow(
      expect.objectContaining({ field }) as ValidationError,
    );
  });
});
