/**
 * scan builds a student's History only when cohortTimelines' mayHaveLost() says their account went,
 * or a task's texts went or shrank sharply from one backup to the next by the history's own rule
 * (losesText): it must never rule out a loss the History finds. Over made-up backups, in memory
 * (no server); the last test over many random ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCohort, buildHistory, losesText } from '../src/history/index.js';
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
async function timelinesOver(nights: (TextRecord[] | null)[]): Promise<CohortTimelines> {
  type Each = Parameters<typeof cohortTimelines>[0]['each'];
  const each: Each = async (read, use) => {
    for (const [k, texts] of nights.entries()) {
      const query = { users: async () => (texts ? [ben] : []), tasks: async () => [template], allTexts: async () => texts ?? [], notUtf8: () => [], notUtf8Names: () => ({ users: new Set(), tasks: new Set() }) } as unknown as BackupQuery;
      const b = { date: { value: `2026-03-0${k + 1}`, source: 'file name' }, schema: `night_${k}`, query } as unknown as LoadedBackup;
      const entry = { path: `buggy_race_bk_2026030${k + 1}.sql` } as Parameters<Parameters<Each>[1]>[1];
      use(await read(b, entry), entry);
    }
  };
  return cohortTimelines({ each });
}

/** Whether ben may have lost anything, and the cohort (username, texts lost). */
async function over(nights: (TextRecord[] | null)[]) {
  const timelines = await timelinesOver(nights);
  return { shrank: timelines.mayHaveLost(1, losesText), students: buildCohort(timelines).students.map((s) => [s.username, s.lost.length]) };
}

const long = 'a text of forty-one characters, all there';

describe('mayHaveLost: which students may have lost anything', () => {
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

  it('a text shortened by editing, not sharply (half or more of it kept): no history to build, nothing lost', async () => {
    expect(await over([[text(1, long)], [text(1, long.slice(0, 21))], [text(1, long.slice(0, 21))]])).toEqual({ shrank: false, students: [] });
  });

  it('never rules out a student whose history has a loss (gone or shrunk sharply), over random nights', async () => {
    const body = fc.oneof(fc.constant(long), fc.constant('a'), fc.string({ maxLength: 60 }), fc.constant(`${long}${long}`), fc.constant('é🏎️'.repeat(15)));
    // Each night: ben's texts (ids 1-3, any of them), or null when his account is gone that night.
    const night = fc.option(fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 3 }), body), { selector: ([id]) => id, maxLength: 3 }), { freq: 6 });
    await fc.assert(
      fc.asyncProperty(fc.array(night, { minLength: 1, maxLength: 6 }), async (nights) => {
        const timelines = await timelinesOver(nights.map((n) => n && n.map(([id, b]) => text(id, b))));
        const h = buildHistory(timelines.snapshots(1), 1);
        if (h.tasks.some((t) => t.lostAt !== null)) expect(timelines.mayHaveLost(1, losesText)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
