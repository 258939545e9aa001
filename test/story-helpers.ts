/**
 * The story fixtures (fixtures/story, made by scripts/make-story-fixtures.ts): one race
 * server over five nights, and what the tool must find in them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupQuery } from '../src/query/index.js';
import { cohortTimelines, streamBackups, type LoadedBackup, type ManyConfig } from '../src/session/index.js';
import { FIXTURES } from './helpers.js';

export const STORY = join(FIXTURES, 'story');

type State = 'new' | 'changed' | 'unchanged' | 'shrunk' | 'gone' | 'none';

export interface StoryManifest {
  sharpShrink: { ratio: number; minChars: number };
  nights: { file: string; format: 'gzip' | 'custom'; date: string; toolDate: string }[];
  live: { file: string; date: string; user: string };
  tasks: { date: string; tasks: { id: number; stored: string; isEnabled: boolean }[] }[];
  students: {
    userId: number;
    usernames: string[];
    tasks: { taskId: number; names: (string | null)[]; isEnabled: (boolean | null)[]; lengths: (number | null)[]; states: State[] }[];
    losses: { userId: number; task: string; taskId: number; lostOn: string; kind: 'gone' | 'shrunk'; before: number; after: number; restoreFrom: string; restoreLength: number }[];
  }[];
  merges: {
    name: string;
    user: string;
    current: { file: string; kind: 'backup' | 'json' };
    expected: string;
    restored: { task: string; from: string }[];
    unmatched: { task: string; taskId: number }[];
  }[];
  secrets: string[];
}

export const story = JSON.parse(readFileSync(join(STORY, 'expected.json'), 'utf8')) as StoryManifest;

/** Every night's backup, oldest first. */
export const nightPaths = story.nights.map((n) => join(STORY, n.file));

export function storyFile(rel: string): string {
  return readFileSync(join(STORY, rel), 'utf8');
}

/**
 * scan's read of `paths` (streamBackups, then cohortTimelines): every user's snapshots. With
 * `full`, every backup's held texts are loaded whole and read whole, none compared with the
 * night before's; `wrap` gives methods to put in place of each backup's query's (to count or
 * refuse calls); `onRead` sees each backup as it is read.
 */
export async function cohortOf(
  paths: readonly string[],
  config: ManyConfig,
  full: boolean,
  wrap: (query: BackupQuery) => Partial<BackupQuery> = () => ({}),
  onRead: (b: LoadedBackup) => void = () => {},
) {
  return streamBackups(paths, config, async (stream) => {
    const timelines = await cohortTimelines({
      each: (read, use) =>
        stream.each(async (b, entry) => {
          onRead(b);
          const query: BackupQuery = Object.assign(Object.create(b.query) as BackupQuery, wrap(b.query));
          if (!full) return read({ ...b, query }, entry);
          await b.texts?.load('all');
          return read({ ...b, query, texts: undefined }, entry);
        }, use),
    });
    return {
      backups: timelines.backups,
      users: timelines.userIds().map((id) => ({ user: timelines.user(id), snapshots: timelines.snapshots(id) })),
    };
  });
}
