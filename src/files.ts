import { promises as fs } from 'node:fs';

/**
 * Is anything at this path, a dangling symbolic link included? (lstat, not
 * access: an output must not be written through a link, and a link to
 * nowhere is still "something there".)
 */
export async function pathExists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/** Is there a directory at this path (through a symbolic link: a home folder may be one)? */
export async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (st) => st.isDirectory(),
    () => false,
  );
}
