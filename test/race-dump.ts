/**
 * A plain dump of a race server with chosen users, tasks and texts (written
 * by dump-gen's writeDump, COPY style), for CLI tests that need names or
 * texts the fixtures do not have.
 */
import { writeFileSync } from 'node:fs';
import { writeDump, type DumpModel, type Table } from './dump-gen.js';

export interface RaceUser {
  /** Default: its place in the list, from 1. */
  id?: number;
  username: string;
  first?: string | null;
  last?: string | null;
  ext?: string | null;
}

export interface RaceTask {
  /** Default: its place in the list, from 1. */
  id?: number;
  phase: number;
  name: string;
  title?: string | null;
  /** Default true. */
  enabled?: boolean;
}

export interface RaceText {
  /** Default: 100 + its place in the list. */
  id?: number;
  /** Index into users and tasks. */
  user: number;
  task: number;
  text: string;
  created?: string;
  modified?: string | null;
}

export interface RaceDumpOptions {
  /** pg_dump --verbose's "Started on" time (YYYY-MM-DD HH:MM:SS), which dates the backup to the minute. */
  startedOn?: string;
}

export function raceDump(users: readonly RaceUser[], tasks: readonly RaceTask[], texts: readonly RaceText[], opts: RaceDumpOptions = {}): string {
  const tables: Table[] = [
    {
      name: 'users',
      columns: ['id', 'username', 'ext_username', 'first_name', 'last_name', 'is_student', 'is_active', 'created_at'],
      types: { id: 'int', is_student: 'bool', is_active: 'bool', created_at: 'ts' },
      rows: users.map((u, i) => ({
        id: String(u.id ?? i + 1),
        username: u.username,
        ext_username: u.ext ?? null,
        first_name: u.first ?? null,
        last_name: u.last ?? null,
        is_student: 't',
        is_active: 't',
        created_at: '2026-01-05 10:00:00+00',
      })),
    },
    {
      name: 'tasks',
      columns: ['id', 'phase', 'name', 'title', 'is_enabled', 'sort_position'],
      types: { id: 'int', phase: 'int', is_enabled: 'bool', sort_position: 'int' },
      rows: tasks.map((t, i) => ({ id: String(t.id ?? i + 1), phase: String(t.phase), name: t.name, title: t.title ?? null, is_enabled: t.enabled === false ? 'f' : 't', sort_position: String(10 * (t.id ?? i)) })),
    },
    {
      name: 'tasktexts',
      columns: ['id', 'user_id', 'task_id', 'text', 'created_at', 'modified_at'],
      types: { id: 'int', user_id: 'int', task_id: 'int', created_at: 'ts', modified_at: 'ts' },
      rows: texts.map((x, i) => ({
        id: String(x.id ?? 100 + i),
        user_id: String(users[x.user]!.id ?? x.user + 1),
        task_id: String(tasks[x.task]!.id ?? x.task + 1),
        text: x.text,
        created_at: x.created ?? '2026-03-01 09:00:00+00',
        modified_at: x.modified ?? null,
      })),
    },
    { name: 'alembic_version', columns: ['version_num'], types: {}, rows: [{ version_num: 'da24495f7e73' }] },
  ];
  const model: DumpModel = { tables, textsTable: 'tasktexts' };
  const dump = writeDump(model, { style: 'copy', crlf: false, restrict: false, rowsPerInsert: 1, standardStrings: true, escapeChoices: [0] });
  const dumpedBy = '-- Dumped by pg_dump version 15.18\n';
  return opts.startedOn ? dump.replace(dumpedBy, `${dumpedBy}-- Started on ${opts.startedOn} UTC\n`) : dump;
}

/** Write the dump (a binary string) to `path`. */
export function writeRaceDump(path: string, ...args: Parameters<typeof raceDump>): string {
  writeFileSync(path, Buffer.from(raceDump(...args), 'latin1'));
  return path;
}
