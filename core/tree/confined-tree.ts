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
// - Names are bytes (byte strings, see entry-name.ts), so a name that is not UTF-8 restores
//   as it was; the tree is kept as a tree of segments, walked and created directory by
//   directory through short paths (directory-cursor.ts), so that a path longer than PATH_MAX
//   restores and every check costs time linear in the name's length.
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
import { DirectoryCursor, byteString, bytesOf, textOf } from './directory-cursor.js';
import { foldSegment, quoteName } from './entry-name.js';
import { UnsafeArchiveError } from './entry-errors.js';

// Windows has no O_NOFOLLOW or O_DIRECTORY; there the deferred links alone keep writes inside.
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;
// Never restore set-user-id or set-group-id bits from an archive.
const MODE_MASK = 0o1777;
// What each entry counts against the limit at least, so that a flood of empty files and
// directories (an inode each, a block for a directory) is bounded too.
const ENTRY_BYTES = 512;

type Kind = 'directory' | 'file' | 'symlink';

export interface RestoredSymlink {
  /** The link's name and target as text (bytes that are not UTF-8 show as U+FFFD). */
  path: string;
  target: string;
}

/** One name of the tree: a segment under its parent. */
interface TreeNode {
  kind: Kind;
  segment: string;
  parent: TreeNode | undefined;
  depth: number;
  /** Of a directory. */
  children: Map<string, TreeNode> | undefined;
  /** Of a directory or a link: the folded name it has. */
  fold: FoldNode | undefined;
}

/** One folded name (a segment of folded segments): whether a directory of the archive has it,
 *  and which of the archive's links. */
interface FoldNode {
  children: Map<string, FoldNode> | undefined;
  directory: boolean;
  links: Set<TreeNode> | undefined;
}

/** Where a name goes: its parent directory, and a short path to that directory (closed by
 *  the caller once the name's system calls are made). */
interface Place {
  parent: TreeNode;
  leaf: string;
  cursor: DirectoryCursor;
}

export class ConfinedTree {
  entries = 0;
  /** Content bytes (apparent sizes), checked against `maxBytes` before a file is created,
   *  as is ENTRY_BYTES for each entry. */
  bytes = 0;
  private readonly top: TreeNode = {
    kind: 'directory',
    segment: '',
    parent: undefined,
    depth: 0,
    children: new Map(),
    fold: { children: undefined, directory: true, links: undefined },
  };
  /** Links to create at the end, in archive order. */
  private readonly links = new Map<TreeNode, { target: string; mtime: number }>();
  private readonly directoryModes = new Map<TreeNode, { mode: number; mtime: number }>();
  /** The last parent directory found by name (most entries share their predecessor's). */
  private last: { name: string; node: TreeNode; prefix: string } | undefined;

  private readonly root: string;
  private readonly maxBytes: number;
  /** What set maxBytes (the caller's option, or the free space), named when it is passed. */
  private readonly limitSource: string | undefined;

  constructor(root: string, maxBytes = Number.POSITIVE_INFINITY, limitSource?: string) {
    this.root = byteString(root);
    this.maxBytes = maxBytes;
    this.limitSource = limitSource;
  }

  /** A new, empty regular file, open for writing; the caller closes it with `closeFile`. */
  openFile(name: string, size: number): number {
    this.charge(name, size);
    const place = this.prepare(name, 'file');
    try {
      const fd = this.create(name, () => openSync(place.cursor.path(place.leaf), NEW_FILE, 0o600));
      this.add(place, 'file');
      return fd;
    } finally {
      place.cursor.close();
    }
  }

  closeFile(fd: number, mode: number, mtime: number): void {
    try {
      fchmodSync(fd, mode & MODE_MASK);
      futimesSync(fd, mtime, mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** The archive's root entry ("./"): its mode and time, for the restorer to apply to the
   *  target once it is in place (a directory read-only here could not be moved there). */
  rootEntry: { mode: number; mtime: number } | undefined;

  directory(name: string, mode: number, mtime: number): void {
    if (name === '') {
      this.rootEntry = { mode: mode & MODE_MASK, mtime };
      return;
    }
    this.charge(name, 0);
    let node: TreeNode;
    const place = this.locate(name, true)!;
    try {
      const existing = place.parent.children!.get(place.leaf);
      if (existing?.kind === 'directory') node = existing;
      else {
        this.free(name, place, 'directory');
        node = this.makeDirectory(name, place);
      }
    } finally {
      place.cursor.close();
    }
    this.directoryModes.set(node, { mode: mode & MODE_MASK, mtime });
  }

  hardLink(name: string, target: string): void {
    const to = this.locate(target, false);
    try {
      const kind = to?.parent.children!.get(to.leaf)?.kind;
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
      const place = this.prepare(name, 'file');
      try {
        this.create(name, () => linkSync(to!.cursor.path(to!.leaf), place.cursor.path(place.leaf)));
        this.add(place, 'file');
      } finally {
        place.cursor.close();
      }
    } finally {
      to?.cursor.close();
    }
  }

  symlink(name: string, target: string, mtime: number): void {
    this.charge(name, 0);
    const place = this.locate(name, true)!;
    try {
      if (this.foldChild(place.parent, place.leaf)?.directory)
        throw new UnsafeArchiveError(name, 'a symbolic link named as a directory of the archive');
      this.free(name, place, 'symlink');
    } finally {
      place.cursor.close();
    }
    const node = this.add(place, 'symlink');
    node.fold = this.foldChild(place.parent, place.leaf, true)!;
    (node.fold.links ??= new Set()).add(node);
    this.links.set(node, { target, mtime });
  }

  /** Creates the links, then applies directory modes and times (deepest first, so that a
   *  read-only directory is closed only after everything inside it was written). */
  finish(): RestoredSymlink[] {
    const restored: RestoredSymlink[] = [];
    for (const [node, { target, mtime }] of this.links) {
      const name = nameOf(node);
      const place = this.locate(name, false)!;
      try {
        const path = place.cursor.path(place.leaf);
        this.create(name, () => symlinkSync(bytesOf(target), path));
        lutimesSync(path, mtime, mtime);
      } finally {
        place.cursor.close();
      }
      restored.push({ path: textOf(name), target: textOf(target) });
    }
    const deepestFirst = [...this.directoryModes].sort(([a], [b]) => b.depth - a.depth);
    for (const [node, { mode, mtime }] of deepestFirst) {
      const place = this.locate(nameOf(node), false)!;
      try {
        const fd = openSync(place.cursor.path(place.leaf), constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        try {
          fchmodSync(fd, mode);
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
      } finally {
        place.cursor.close();
      }
    }
    return restored;
  }

  private charge(name: string, size: number): void {
    this.entries++;
    this.bytes += size;
    const floor = this.entries * ENTRY_BYTES;
    if (this.bytes > this.maxBytes || floor > this.maxBytes) {
      const source = this.limitSource ? ` (${this.limitSource})` : '';
      const count =
        this.bytes > this.maxBytes
          ? ''
          : `: ${this.entries} entries, each counted as at least ${ENTRY_BYTES} bytes`;
      throw new UnsafeArchiveError(
        name,
        `the archive expands past the limit of ${this.maxBytes} bytes${source}${count}`,
      );
    }
  }

  /**
   * The name's parent directory and a short path to it, walking from the root segment by
   * segment. With `make`, missing parents are made, each refused if it is a file or, under any
   * spelling, one of the archive's links; without, undefined when the parent is not a
   * directory of this tree.
   */
  private locate(name: string, make: boolean): Place | undefined {
    const slash = name.lastIndexOf('/');
    const parentName = slash < 0 ? '' : name.slice(0, slash);
    const leaf = name.slice(slash + 1);
    if (this.last?.name === parentName)
      return { parent: this.last.node, leaf, cursor: new DirectoryCursor(this.last.prefix) };
    const cursor = new DirectoryCursor(this.root);
    let node = this.top;
    try {
      if (parentName !== '') {
        const segments = parentName.split('/');
        for (let i = 0; i < segments.length; i++) {
          const segment = segments[i]!;
          const child = node.children!.get(segment);
          if (child?.kind !== 'directory') {
            if (!make) {
              cursor.close();
              return undefined;
            }
            if (child?.kind === 'file') {
              const at = segments.slice(0, i + 1).join('/');
              throw new UnsafeArchiveError(name, `its parent ${quoteName(at)} is a file`);
            }
            this.refuseFoldedLink(name, node, segment);
            node = this.makeDirectory(name, { parent: node, leaf: segment, cursor });
          } else node = child;
          cursor.enter(segment);
        }
      }
    } catch (error) {
      cursor.close();
      throw error;
    }
    if (!cursor.opened) this.last = { name: parentName, node, prefix: cursor.prefix };
    return { parent: node, leaf, cursor };
  }

  /** Makes the name's parent a real directory of this tree, and frees the name itself for an
   *  entry of `kind`: an earlier file or link of that name is replaced, a directory is not. */
  private prepare(name: string, kind: Kind): Place {
    const place = this.locate(name, true)!;
    try {
      this.free(name, place, kind);
    } catch (error) {
      place.cursor.close();
      throw error;
    }
    return place;
  }

  private free(name: string, { parent, leaf, cursor }: Place, kind: Kind): void {
    const existing = parent.children!.get(leaf);
    if (existing?.kind === 'directory') {
      throw new UnsafeArchiveError(name, 'replaces a directory the archive already created');
    }
    if (existing?.kind === 'file') unlinkSync(cursor.path(leaf));
    if (existing?.kind === 'symlink') this.forgetLink(existing);
    parent.children!.delete(leaf);
    if (kind === 'directory') this.refuseFoldedLink(name, parent, leaf);
  }

  private add({ parent, leaf }: Place, kind: Kind): TreeNode {
    const node: TreeNode = {
      kind,
      segment: leaf,
      parent,
      depth: parent.depth + 1,
      children: kind === 'directory' ? new Map() : undefined,
      fold: undefined,
    };
    parent.children!.set(leaf, node);
    return node;
  }

  /** The folded name of `segment` in `parent`, made with `make`. */
  private foldChild(parent: TreeNode, segment: string, make = false): FoldNode | undefined {
    const folds = parent.fold!;
    const key = foldSegment(segment);
    let fold = folds.children?.get(key);
    if (!fold && make) {
      fold = { children: undefined, directory: false, links: undefined };
      (folds.children ??= new Map()).set(key, fold);
    }
    return fold;
  }

  /** Refuses `name` if `segment` in `parent` is, under any spelling, one of the archive's links. */
  private refuseFoldedLink(name: string, parent: TreeNode, segment: string): void {
    const links = this.foldChild(parent, segment)?.links;
    if (links && links.size > 0) {
      const link = [...links][0]!;
      throw new UnsafeArchiveError(
        name,
        `goes through the archive's symbolic link ${quoteName(nameOf(link))}`,
      );
    }
  }

  private makeDirectory(name: string, place: Place): TreeNode {
    // The default mode, as GNU tar gives directories the archive does not list (the staging
    // directory around the tree is 700, so nobody else can reach into it meanwhile).
    this.create(name, () => mkdirSync(place.cursor.path(place.leaf)));
    const node = this.add(place, 'directory');
    node.fold = this.foldChild(place.parent, place.leaf, true)!;
    node.fold.directory = true;
    return node;
  }

  private forgetLink(node: TreeNode): void {
    this.links.delete(node);
    node.fold!.links!.delete(node);
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

/** A node's name, from its segments (only for links, directory modes and messages). */
function nameOf(node: TreeNode): string {
  const segments: string[] = [];
  for (let at: TreeNode | undefined = node; at?.parent; at = at.parent) segments.push(at.segment);
  return segments.reverse().join('/');
}
