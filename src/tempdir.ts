/**
 * Private temp dirs. Each is mode 0700 and carries a marker naming the
 * process that made it, so a later run can tell a dir left behind by a
 * killed run (its process is gone) from one in use, and remove only those.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of every temp dir this tool makes; stale ones are found by it. */
export const TEMP_PREFIX = 'recover-texts-';
/** The marker file that says a temp dir is ours, and which process owns it. */
export const MARKER = 'recover-texts.json';

export async function makePrivateTempDir(): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), TEMP_PREFIX)); // mkdtemp makes it 0700
  await fs.writeFile(join(dir, MARKER), JSON.stringify({ pid: process.pid, created: new Date().toISOString() }) + '\n', { mode: 0o600 });
  return dir;
}
