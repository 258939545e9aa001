/** What the commands over many backups (history, merge) share. */
import type { BackupSet, ManyConfig } from '../session/index.js';
import type { Console } from './console.js';
import { resolveSession, type CommonOptions } from './options.js';

export function manyConfig(opts: CommonOptions & { jobs?: number }, ui: Console): ManyConfig {
  return { ...resolveSession(opts, ui), onProgress: undefined, onBackup: (e) => ui.backupProgress(e), concurrency: opts.jobs };
}

/** Say which backups did not load, and return them for the report. */
export function noteFailures(set: BackupSet, ui: Console): { path: string; code: string; message: string }[] {
  for (const f of set.failed) ui.warn(`skipped ${f.path}: ${f.error.message}`);
  if (set.failed.length) ui.note(`${set.loaded.length} of ${set.loaded.length + set.failed.length} backups loaded`);
  return set.failed.map((f) => ({ path: f.path, code: f.error.code, message: f.error.message }));
}
