// Every file-system change a restore makes, confined by construction to one fresh directory.
// - Names arrive normalised (entry-name.ts), so a name has one spelling.
// - Symbolic links are data: they are recorded and created only after every other entry, so
//   while entries are written no link exists in the tree to write through. An entry whose
//   parent chain holds one of the archive's links (compared case- and Unicode-folded, as macOS
//   and Windows file systems compare) is refused, and so is a link named as a directory.
// - Files are created with O_EXCL: an earlier entry of the same name is unlinked first, never
//   opened, so a file never writes into another name's inode (a hard link, a link).
// - A hard link may only name a regular file this archive created.
// - Directory modes and times are applied last, through descriptors opened with O_NOFOLLOW.
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { foldName, parentOf, quoteName } from './entry-name.js';
import { UnsafeArchiveError } from './extract-errors.js';

// Windows has no O_NOFOLLOW or O_DIRECTORY; there the deferred links alone keep writes inside.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;
// Never restore set-user-id or set-group-id bits from an archive.
const MODE_MASK = 0o1777;

type Kind = 'directory' | 'file' | 'symlink';

export interface RestoredSymlink {
  path: string;
  target: string;
}

export class ConfinedTree {
  entries = 0;
  /** Content bytes (apparent sizes), checked against `maxBytes` before a file is created. */
  bytes = 0;
  private readonly kinds = new Map<string, Kind>([['', 'directory']]);
  private readonly foldedDirectories = new Set<string>(['']);
  /** Links to create at the end, in archive order, and their folded names. */
  private readonly links = new Map<string, { target: string; mtime: number }>();
  private readonly foldedLinks = new Map<string, Set<string>>();
  private readonly directoryModes = new Map<string, { mode: number; mtime: number }>();

  private readonly root: string;
  private readonly maxBytes: number;

  constructor(root: string, maxBytes = Number.POSITIVE_INFINITY) {
    this.root = root;
    this.maxBytes = maxBytes;
  }

  /** A new, empty regular file, open for writing; the caller closes it with `closeFile`. */
  openFile(name: string, size: number): number {
    this.charge(name, size);
    this.prepare(name, 'file');
    const fd = this.create(name, () => openSync(this.path(name), NEW_FILE, 0o600));
    this.kinds.set(name, 'file');
    return fd;
  }

  closeFile(fd: number, mode: number, mtime: number): void {
    try {
      fchmodSync(fd, mode & MODE_MASK);
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }

  directory(name: string, mode: number, mtime: number): void {
    if (name === '') return; // the target itself: its mode stays the restorer's
    this.charge(name, 0);
    if (this.kinds.get(name) !== 'directory') {
      this.prepare(name, 'directory');
      this.makeDirectory(name);
    }
    this.directoryModes.set(name, { mode: mode & MODE_MASK, mtime });
  }

  hardLink(name: string, target: string): void {
    const kind = this.kinds.get(target);
    if (kind !== 'file' || target === name) {
      const what =
        kind === undefined
          ? 'which no earlier entry of the archive created'
          : kind === 'file'
            ? 'which is the entry itself'
            : `which is a ${kind === 'symlink' ? 'symbolic link' : 'directory'}`;
      throw new UnsafeArchiveError(name, `hard link to ${quoteName(target)}, ${what}`);
    }
    this.charge(name, 0);
    this.prepare(name, 'file');
    this.create(name, () => linkSync(this.path(target), this.path(name)));
    this.kinds.set(name, 'file');
  }

  symlink(name: string, target: string, mtime: number): void {
    this.charge(name, 0);
    if (this.foldedDirectories.has(foldName(name)))
      throw new UnsafeArchiveError(name, 'a symbolic link named as a directory of the archive');
    this.prepare(name, 'symlink');
    this.kinds.set(name, 'symlink');
    this.links.set(name, { target, mtime });
    const folded = foldName(name);
    const same = this.foldedLinks.get(folded) ?? new Set<string>();
    this.foldedLinks.set(folded, same.add(name));
  }

  /** Creates the links, then applies directory modes and times (deepest first, so that a
   *  read-only directory is closed only after everything inside it was written). */
  finish(): RestoredSymlink[] {
    const restored: RestoredSymlink[] = [];
    for (const [name, { target, mtime }] of this.links) {
      this.create(name, () => symlinkSync(target, this.path(name)));
      lutimesSync(this.path(name), mtime, mtime);
      restored.push({ path: name, target });
    }
    const deepestFirst = [...this.directoryModes].sort(([a], [b]) => b.length - a.length);
    for (const [name, { mode, mtime }] of deepestFirst) {
      const fd = openSync(this.path(name), constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      try {
        fchmodSync(fd, mode);
        futimesSync(fd, mtime, mtime);
      } finally {
        closeSync(fd);
      }
    }
    return restored;
  }

  private path(name: string): string {
    return join(this.root, name);
  }

  private charge(name: string, size: number): void {
    this.entries++;
    this.bytes += size;
    if (this.bytes > this.maxBytes) {
      throw new UnsafeArchiveError(
        name,
        `the archive expands past the limit of ${this.maxBytes} bytes (--max-bytes, or the free space of the target's file system)`,
      );
    }
  }

  /** Makes the name's parent a real directory of this tree, and frees the name itself for an
   *  entry of `kind`: an earlier file or link of that name is replaced, a directory is not. */
  private prepare(name: string, kind: Kind): void {
    this.makeParents(name);
    const existing = this.kinds.get(name);
    if (existing === 'directory') {
      throw new UnsafeArchiveError(name, 'replaces a directory the archive already created');
    }
    if (existing === 'file') unlinkSync(this.path(name));
    if (existing === 'symlink') this.forgetLink(name);
    this.kinds.delete(name);
    if (kind === 'directory') this.refuseFoldedLink(name, name);
  }

  private makeParents(name: string): void {
    const parent = parentOf(name);
    if (this.kinds.get(parent) === 'directory') return;
    // Walk up to the nearest directory this tree made; each missing one must not be a file or
    // one of the archive's links, under any spelling.
    const missing: string[] = [];
    for (let at = parent; this.kinds.get(at) !== 'directory'; at = parentOf(at)) {
      const kind = this.kinds.get(at);
      if (kind === 'file') throw new UnsafeArchiveError(name, `its parent ${quoteName(at)} is a file`);
      this.refuseFoldedLink(name, at);
      missing.push(at);
    }
    for (const directory of missing.reverse()) this.makeDirectory(directory);
  }

  private refuseFoldedLink(name: string, at: string): void {
    const links = this.foldedLinks.get(foldName(at));
    if (links) {
      const link = [...links][0]!;
      throw new UnsafeArchiveError(name, `goes through the archive's symbolic link ${quoteName(link)}`);
    }
  }

  private makeDirectory(name: string): void {
    // The default mode, as GNU tar gives directories the archive does not list (the staging
    // directory around the tree is 700, so nobody else can reach into it meanwhile).
    this.create(name, () => mkdirSync(this.path(name)));
    this.kinds.set(name, 'directory');
    this.foldedDirectories.add(foldName(name));
  }

  private forgetLink(name: string): void {
    this.links.delete(name);
    const folded = foldName(name);
    const same = this.foldedLinks.get(folded)!;
    same.delete(name);
    if (same.size === 0) this.foldedLinks.delete(folded);
  }

  /** A name this tree does not know exists on disk only where the file system folds names
   *  (another entry differing in case or Unicode form): say so, not a raw EEXIST. */
  private create<T>(name: string, make: () => T): T {
    try {
      return make();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new UnsafeArchiveError(
          name,
          'another entry of the archive has the same name on this file system (names differing only in case or Unicode form)',
        );
      }
      throw error;
    }
  }
}
