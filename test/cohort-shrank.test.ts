/**
 * scan builds a student's History only when cohortTimelines' shrank() says a text of theirs went
 * or got shorter from one backup to the next, or their account went: it must never rule out a
 * loss the History finds. Over made-up backups, in memory (no server).
 */
import { describe, expect, it } from 'vitest';
import { buildCohort } from '../src/history/index.js';
import type { BackupQuery, TextRecord, UserRecord } from '../src/query/index.js';
import { cohortTimelines, type CohortTimelines, type LoadedBackup } from '../src/session/index.js';

const ben: UserRecord = { id: 1, username: 'ben', extUsername: null, firstName: 'Ben', lastName: 'Hall', isStudent: true, isActive: true };
const template = { id: 7, downloadName: '1-TEMPLATE', storedName: '1-template', phase: 1, sortPosition: 1, isEnabled: true, title: 'Template' };
const text = (textId: number, body: string): TextRecord => ({
  task_name: '1-TEMPLATE',
  username: 'ben',
  created_at: '2026-03-01 10:00',
  modified_at: null,
  is_enabled: true,
  text: body,
  textId,
  taskId: 7,
  phase: 1,
  sortPosition: 1,
  storedTaskName: '1-template',
  taskTitle: 'Template',
  userId: 1,
});

/** The timelines and the cohort over nights each holding ben (unless `null`) and these texts of his. */
async function over(nights: (TextRecord[] | null)[]) {
  type Each = Parameters<typeof cohortTimelines>[0]['each'];
  const each: Each = async (read, use) => {
    for (const [k, texts] of nights.entries()) {
      const query = { users: async () => (texts ? [ben] : []), tasks: async () => [template], allTexts: async () => texts ?? [] } as unknown as BackupQuery;
      const b = { date: { value: `2026-03-0${k + 1}`, source: 'file name' }, schema: `night_${k}`, query } as unknown as LoadedBackup;
      const entry = { path: `buggy_race_bk_2026030${k + 1}.sql` } as Parameters<Parameters<Each>[1]>[1];
      use(await read(b, entry), entry);
    }
  };
  const timelines: CohortTimelines = await cohortTimelines({ each });
  return { shrank: timelines.shrank(1), students: buildCohort(timelines).students.map((s) => [s.username, s.lost.length]) };
}

const long = 'a text of forty-one characters, all there';

describe('shrank: which students may have lost anything', () => {
  it('a task of two texts that loses its short one while the other grows: shorter as the History joins them, and lost', async () => {
    expect(long).toHaveLength(41);
    expect(await over([[text(1, 'x'), text(2, long)], [text(2, `${long}!`)]])).toEqual({ shrank: true, students: [['ben', 1]] });
  });

  it('a text that only grows, or is re-typed the same length: not shrunk, and nothing lost', async () => {
    expect(await over([[text(1, 'short')], [text(1, `${long}`)], [text(1, long.toUpperCase())]])).toEqual({ shrank: false, students: [] });
  });

  it('a text gone, one shrunk sharply, an account deleted: shrunk, and lost', async () => {
    expect(await over([[text(1, long)], []])).toEqual({ shrank: true, students: [['ben', 1]] });
    expect(await over([[text(1, long)], [text(1, 'a')]])).toEqual({ shrank: true, students: [['ben', 1]] });
    expect(await over([[text(1, long)], null])).toEqual({ shrank: true, students: [['ben', 1]] });
  });
});
