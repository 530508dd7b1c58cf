/**
 * Reading files that must be plain files: configuration, secrets files, keys.
 * A FIFO, a device (/dev/zero), a socket or a directory in their place fails at
 * once instead of blocking the process or filling memory: the file is opened
 * with O_NONBLOCK, checked with fstat on the open descriptor (so it cannot be
 * swapped between the check and the read), and never read past `limit` bytes.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Why a file was refused; `path` is the path as given. */
export class UnsafeFileError extends Error {
  readonly path: string;
  readonly code: 'ENOENT' | 'EACCES' | 'NOT_FILE' | 'TOO_LARGE' | 'READ';
  constructor(path: string, code: UnsafeFileError['code'], message: string) {
    super(`${path}: ${message}`);
    this.name = 'UnsafeFileError';
    this.path = path;
    this.code = code;
  }
}

/** One MiB: the bound for configuration and secrets files. */
export const ONE_MIB = 1024 * 1024;

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of the regular file at `path`, at most `limit` of them.
 * Throws UnsafeFileError (naming the path as given) for a missing file, a file
 * that is not a regular file, or one larger than `limit`. `displayPath` is what
 * messages call it (default `path`).
 */
export function readRegularFile(path: string, limit: number, displayPath: string = path): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UnsafeFileError(displayPath, 'ENOENT', 'no such file');
    if (code === 'EACCES' || code === 'EPERM') throw new UnsafeFileError(displayPath, 'EACCES', 'permission denied');
    if (code === 'ENXIO') throw new UnsafeFileError(displayPath, 'NOT_FILE', 'is not a regular file');
    throw new UnsafeFileError(displayPath, 'READ', `cannot be read (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeFileError(displayPath, 'NOT_FILE', `is ${kindOf(st)}, not a regular file`);
    if (st.size > limit) throw new UnsafeFileError(displayPath, 'TOO_LARGE', `file is too large (${st.size} bytes; the limit is ${limit})`);
    // The file may grow between fstat and the read: read at most limit + 1 bytes to notice.
    const buf = Buffer.alloc(Math.min(limit + 1, st.size + 1));
    let total = 0;
    for (;;) {
      if (total === buf.length) break;
      let n: number;
      try {
        n = readSync(fd, buf, total, buf.length - total, null);
      } catch (e) {
        throw new UnsafeFileError(displayPath, 'READ', `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      if (n === 0) break;
      total += n;
    }
    if (total > limit) throw new UnsafeFileError(displayPath, 'TOO_LARGE', `file is too large (more than ${limit} bytes)`);
    return buf.subarray(0, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks, without reading, that `path` is a regular file (following symlinks),
 * for files that are run rather than read (hooks). Throws UnsafeFileError.
 */
export function assertRegularFile(path: string, displayPath: string = path): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UnsafeFileError(displayPath, 'ENOENT', 'no such file');
    throw new UnsafeFileError(displayPath, 'READ', `cannot be read (${code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new UnsafeFileError(displayPath, 'NOT_FILE', `is ${kindOf(st)}, not a regular file`);
}
