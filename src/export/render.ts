/** Rendering texts as the server's JSON, CSV, or a folder of files with an index. */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { newestTimestamp, toServerText, type ServerText, type TextRecord } from '../query/index.js';
import { writeDirAtomic, writeFileAtomic, type WriteOptions } from './write.js';


export type ExportFormat = 'json' | 'csv' | 'files';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'csv', 'files'];

/** Where the texts came from, recorded in the files index and on stderr. */
export interface ExportContext {
  backup: string;
  backupFormat: string;
  /** The backup's date (YYYY-MM-DD) and how it is known. */
  backupDate: string | null;
  backupDateSource: string;
  username: string;
  timezone: string;
}

/** The race server's upload JSON: an array, keys in the server's order. */
export function renderJson(texts: readonly TextRecord[]): string {
  return JSON.stringify(texts.map(toServerText), null, 2) + '\n';
}

/**
 * The upload JSON for a live server: task names as the server stores them
 * (`2-Edit`), not upper-cased as its download writes them, because the upload
 * compares names exactly (race-server.md). For merge and export-all.
 */
export function renderUploadJson(texts: readonly (ServerText | TextRecord)[]): string {
  return JSON.stringify(texts.map((t) => ({ ...toServerText(t), task_name: 'storedTaskName' in t ? t.storedTaskName : t.task_name })), null, 2) + '\n';
}

/** One row per text, the server's fields as columns; RFC 4180 quoting keeps every byte. */
export function renderCsv(texts: readonly TextRecord[]): string {
  return stringify(
    texts.map((t) => [t.task_name, t.username, t.created_at ?? '', t.modified_at ?? '', t.is_enabled ? 'true' : 'false', t.text]),
    { header: true, columns: ['task_name', 'username', 'created_at', 'modified_at', 'is_enabled', 'text'], record_delimiter: 'unix' },
  );
}

/** The names a folder of files holds besides the texts: no text's file may take them. */
const INDEX_FILES = ['INDEX.md', 'index.json'] as const;

/**
 * File names for each text: the task name made safe for any file system,
 * with a counter when a student has two texts for one task.
 */
function textFileNames(texts: readonly TextRecord[]): string[] {
  return uniqueFileNames(texts.map((t) => t.task_name), '.md', INDEX_FILES);
}

/**
 * Names made safe for any file system, unique even where case is ignored
 * (macOS, Windows), with a counter for repeats: `name.ext`, `name (2).ext`.
 * `reserved` names (the index files beside them) are never given out, in any
 * case: a student called `index` cannot overwrite the index.
 */
export function uniqueFileNames(names: readonly string[], ext: string, reserved: readonly string[] = []): string[] {
  const fold = (s: string) => s.normalize('NFC').toUpperCase().toLowerCase();
  const taken = new Set(reserved.map(fold));
  return names.map((name) => {
    const base = name.replace(/[^\p{L}\p{N}._-]/gu, '_').replace(/^\.+/, '_') || 'file';
    let file = `${base}${ext}`;
    for (let n = 2; taken.has(fold(file)); n++) file = `${base} (${n})${ext}`;
    taken.add(fold(file));
    return file;
  });
}

function renderIndex(texts: readonly TextRecord[], names: readonly string[], ctx: ExportContext): string {
  const lines = [
    `# Task texts of ${ctx.username}`,
    '',
    `- Backup: ${ctx.backup} (${ctx.backupFormat})`,
    `- Backup date: ${ctx.backupDate ?? 'unknown'} (${ctx.backupDateSource})`,
    `- Newest text timestamp: ${newestTimestamp(texts) ?? 'none'} (${ctx.timezone})`,
    `- Texts: ${texts.length}`,
    '',
    'Each file holds one text exactly as stored (line endings included). To restore by hand,',
    'paste a file\'s content into the task\'s text on the race server.',
    '',
    '| file | task | created | modified | enabled | characters |',
    '|---|---|---|---|---|---|',
    ...texts.map((t, k) => `| ${names[k]} | ${t.task_name}${t.taskTitle ? ` (${t.taskTitle.replace(/\|/g, '\\|')})` : ''} | ${t.created_at ?? ''} | ${t.modified_at ?? ''} | ${t.is_enabled ? 'yes' : 'no'} | ${[...t.text].length} |`),
    '',
  ];
  return lines.join('\n');
}

/** Render to a string (json, csv) for stdout or a file. */
export function render(format: 'json' | 'csv', texts: readonly TextRecord[]): string {
  return format === 'json' ? renderJson(texts) : renderCsv(texts);
}

export async function writeExport(format: ExportFormat, texts: readonly TextRecord[], out: string, ctx: ExportContext, opts: WriteOptions): Promise<void> {
  if (format !== 'files') return writeFileAtomic(out, render(format, texts), opts);
  await writeDirAtomic(out, (dir) => fillTextsDir(dir, texts, ctx), opts);
}

/** One file per text, plus INDEX.md and index.json, into an existing (private, temporary) folder. */
export async function fillTextsDir(dir: string, texts: readonly TextRecord[], ctx: ExportContext): Promise<void> {
  const names = textFileNames(texts);
  for (const [k, t] of texts.entries()) await fs.writeFile(join(dir, names[k]!), t.text, { mode: 0o600 });
  await fs.writeFile(join(dir, INDEX_FILES[0]), renderIndex(texts, names, ctx), { mode: 0o600 });
  const index = {
    ...ctx,
    newestTimestamp: newestTimestamp(texts),
    texts: texts.map((t, k) => ({ file: names[k], ...toServerText(t), text: undefined, taskTitle: t.taskTitle, characters: [...t.text].length })),
  };
  await fs.writeFile(join(dir, INDEX_FILES[1]), JSON.stringify(index, null, 2) + '\n', { mode: 0o600 });
}
