// Paths of any depth, kept short for system calls, and names kept as their bytes.
//
// Linux refuses a path longer than PATH_MAX (4,096 bytes) with ENAMETOOLONG, yet a checkout
// may be deeper (git and GNU tar get there with openat). Node has no openat: a cursor that gets
// deep opens the directory it is in and names what lies below as "/proc/self/fd/N/...", which
// the kernel resolves from that open directory, as openat would, in time linear in the depth.
// Not process.chdir: the working directory is shared by the whole process, libuv's thread pool
// included, where the upload, a staging file or a test may resolve a relative path at that
// moment; an open descriptor changes nothing anyone else sees. Without /proc (macOS, Windows)
// paths stay whole and the OS's own limit applies.
//
// Names and paths here are byte strings: one char per byte (latin1), so that a name that is not
// valid UTF-8 (git checks such names out) keeps its bytes; `bytesOf` gives them back for a call.
import { closeSync, constants, existsSync, openSync } from 'node:fs';

const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd') ? '/proc/self/fd/' : undefined;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** A prefix that would grow past this is replaced by the /proc name of its open directory:
 *  each call then resolves at most this many bytes (linear time), far below PATH_MAX. */
const SHORT_PREFIX = 512;

/** The byte string of a JS (UTF-16) string, such as a path from the environment. */
export function byteString(text: string): string {
  return !/[\u0080-\uffff]/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** The bytes of a byte string, for a system call or an archive header. */
export function bytesOf(bytes: string): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/** A byte string as text, for messages and glob patterns (invalid UTF-8 shows as U+FFFD). */
export function textOf(bytes: string): string {
  return !/[\u0080-\uffff]/.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
}

export interface CursorMark {
  prefix: string;
  fds: number;
}

/** A directory, and short paths of the entries in it, however deep it is. */
export class DirectoryCursor {
  /** This directory's path as a byte string, ending with '/'. */
  prefix: string;
  private readonly fds: number[] = [];

  /** `directory` is a byte string (see `byteString`). */
  constructor(directory: string) {
    this.prefix = directory.endsWith('/') ? directory : directory + '/';
  }

  /** The directory itself. */
  here(): Buffer {
    return bytesOf(this.prefix);
  }

  /** An entry of this directory. */
  path(name: string): Buffer {
    return bytesOf(this.prefix + name);
  }

  /** Moves into the subdirectory `name` (opened with O_NOFOLLOW when it is opened at all);
   *  `leave(mark)` comes back. */
  enter(name: string): CursorMark {
    const mark = { prefix: this.prefix, fds: this.fds.length };
    if (PROC_FD === undefined || this.prefix.length + name.length < SHORT_PREFIX) {
      this.prefix = this.prefix + name + '/';
    } else {
      const fd = openSync(this.path(name), constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      this.fds.push(fd);
      this.prefix = `${PROC_FD}${fd}/`;
    }
    return mark;
  }

  leave(mark: CursorMark): void {
    while (this.fds.length > mark.fds) closeSync(this.fds.pop()!);
    this.prefix = mark.prefix;
  }

  /** Closes every directory this cursor opened; it is not used afterwards. */
  close(): void {
    while (this.fds.length > 0) closeSync(this.fds.pop()!);
  }

  /** Whether paths go through an open directory (then they are valid only until `close`). */
  get opened(): boolean {
    return this.fds.length > 0;
  }
}
