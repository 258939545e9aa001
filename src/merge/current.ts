/**
 * The live server's "Load texts as JSON" download as the current data. Flask's
 * jsonify sorts its keys and escapes non-ASCII; JSON.parse reads either form.
 */
import { promises as fs } from 'node:fs';
import { RecoverError } from '../errors.js';
import type { History } from '../history/index.js';
import type { Snapshot } from '../session/index.js';
import { toServerText, type ServerText } from '../query/index.js';
import { CREATED_AT_PATTERN } from './check.js';
import type { CurrentData, CurrentText } from './plan.js';

/** A JSON array rather than a backup: the first byte that is not a BOM or white space is `[`. */
export async function isJsonFile(path: string): Promise<boolean> {
  const fh = await fs.open(path, 'r').catch(() => null);
  if (!fh) return false;
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('[');
  } finally {
    await fh.close();
  }
}

export function parseCurrentJson(path: string, content: string): { username: string | null; texts: CurrentText[] } {
  const bad = (what: string) =>
    new RecoverError('CURRENT_JSON_INVALID', `${path} is not the race server's texts JSON: ${what}`, {
      hint: 'download it from the admin page "Load texts as JSON" for the student, or give a backup as --current',
    });
  let data: unknown;
  try {
    data = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw bad('expected an array');
  const texts: CurrentText[] = data.map((x: unknown, k) => {
    if (!x || typeof x !== 'object' || Array.isArray(x)) throw bad(`element ${k} is not an object`);
    const o = x as Record<string, unknown>;
    const str = (key: string, nullable: boolean): string | null => {
      const v = o[key];
      if (typeof v === 'string') return v;
      if (nullable && (v === null || v === undefined)) return null;
      throw bad(`element ${k} has no ${nullable ? '' : 'string '}${key}`);
    };
    const created = str('created_at', true);
    if (created !== null && !CREATED_AT_PATTERN.test(created)) throw bad(`element ${k}'s created_at ${JSON.stringify(created)} is not YYYY-MM-DD HH:MM`);
    const element: ServerText = {
      task_name: str('task_name', false)!,
      username: str('username', false)!,
      created_at: created,
      modified_at: str('modified_at', true),
      is_enabled: typeof o.is_enabled === 'boolean' ? o.is_enabled : true,
      text: str('text', false)!,
    };
    return { taskId: null, textId: null, element };
  });
  const names = [...new Set(texts.map((t) => t.element.username))];
  if (names.length > 1) throw bad(`it mixes usernames (${names.join(', ')}); the server's download is one student's`);
  return { username: names[0] ?? null, texts };
}

/** The current data from the live server's JSON download. */
/** `modifiedAt`: the file's modification time, the best guess of when it was downloaded (the --current snapshot's time). */
export function currentFromJson(
  label: string,
  json: { username: string | null; texts: CurrentText[] },
  historyUsername: string,
  modifiedAt: Date | null = null,
): { current: CurrentData; note: string | null } {
  const username = json.username ?? historyUsername;
  const note =
    json.username && json.username !== historyUsername ? `the current JSON's username is ${json.username}; the newest backup's is ${historyUsername}: writing ${json.username}` : null;
  const date = modifiedAt ? modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : null;
  return { current: { kind: 'json', label, date, dateSource: 'file modification time', username, texts: json.texts, tasks: null }, note };
}

/** The current data from a backup's snapshot of the student (history's snapshots). */
export function currentFromSnapshot(label: string, snap: Snapshot, h: History): CurrentData {
  if (!snap.user) {
    const deleted = h.user.deletedAt && h.user.deletedAt.index <= h.dates.findIndex((d) => d.path === snap.path);
    throw new RecoverError('USER_NOT_FOUND', `the student (user id ${h.user.id}, ${h.user.username}) is not in --current ${label}`, {
      hint: deleted
        ? `the account was deleted (it is in no backup from ${h.user.deletedAt!.date} on): re-create it on the race server, then upload the texts of the last backup that had it (recover-texts export BACKUP --user ${h.user.username}); \`history\` shows them`
        : 'give the newest backup, or the live JSON, as --current',
    });
  }
  return {
    kind: 'backup',
    label,
    date: snap.date,
    dateSource: snap.dateSource,
    username: snap.user.username,
    texts: snap.texts.map((t) => ({ taskId: t.taskId, textId: t.textId, element: { ...toServerText(t), task_name: t.storedTaskName } })),
    tasks: snap.tasks,
  };
}
