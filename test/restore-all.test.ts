/**
 * Restoring everyone a scan found at once (merge/all.ts): one upload per student who lost
 * texts, each the same file `merge --auto` writes for them alone, accepted by the server's
 * upload rules; a deleted account and a student with nothing to restore get no file, and the
 * summary says why and what to do.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderUploadJson } from '../src/export/index.js';
import { buildHistory, type History } from '../src/history/index.js';
import { checkUpload, restoreAll, restoreAllSummary, type AffectedStudent } from '../src/merge/index.js';
import { Scope } from '../src/scope.js';
import { studentSnapshots, withBackups, type Snapshot } from '../src/session/index.js';
import { nightPaths, story, STORY } from './story-helpers.js';

/** Every student of the story, followed across the five nights as history follows them. */
async function storyStudents(): Promise<AffectedStudent[]> {
  const scope = new Scope();
  return withBackups(nightPaths, { engine: { kind: 'embedded', log: () => {} }, scope, timezone: 'UTC', log: () => {} }, async (set) => {
    const out: AffectedStudent[] = [];
    for (const s of story.students) {
      const { userId, snapshots } = await studentSnapshots(set, s.usernames.at(-1)!, () => {});
      out.push({ h: buildHistory(snapshots, userId), snapshots, name: `Student ${userId}` });
    }
    return out;
  });
}

/** The same student as if their account had gone on the last night: the newest snapshot has no user. */
function deletedOnLastNight(s: AffectedStudent): AffectedStudent {
  const snapshots: Snapshot[] = s.snapshots.map((x, k) => (k === s.snapshots.length - 1 ? { ...x, user: null, texts: [] } : x));
  return { h: buildHistory(snapshots, s.h.user.id), snapshots, name: s.name };
}

describe('restoreAll', () => {
  it('one upload per student who lost texts, each what merge --auto writes for them, accepted by the upload; the summary lists each', async () => {
    const students = await storyStudents();
    const r = restoreAll(students, [STORY]);
    expect(r.uploads.map((u) => u.file)).toEqual(['alice-upload.json', 'benjamin-upload.json']);
    expect(r.notRestored).toEqual([]); // chloe lost nothing: not listed at all
    const newestTasks = new Set(story.tasks.at(-1)!.tasks.map((t) => t.stored));
    for (const u of r.uploads) {
      const merge = story.merges.find((m) => m.user === u.student.h.user.username && m.current.kind === 'backup')!;
      expect(renderUploadJson(u.plan.upload.elements)).toBe(readFileSync(join(STORY, merge.expected), 'utf8'));
      expect(checkUpload(u.plan.upload.elements, { username: u.student.h.user.username, taskNames: newestTasks })).toEqual([]);
      expect([...u.plan.restored].sort()).toEqual(merge.restored.map((x) => x.task).sort());
    }
    const summary = restoreAllSummary(r);
    expect(summary).toMatch(/^2 uploads, one per student who lost texts/);
    expect(summary).toContain('alice-upload.json: for alice (Student 2, user id 2)');
    expect(summary).toContain('benjamin-upload.json: for benjamin (Student 3, user id 3), ');
    expect(summary).toContain('  restores: 1-ADD\n');
    expect(summary).toContain("DELETES all of that student's texts");
    expect(summary).toContain('docker exec server-db-1 pg_dump');
    expect(summary).not.toContain('No file for');
  });

  it('a deleted account gets no file: the summary says when it went and how to give the texts back', async () => {
    const [alice, ben] = await storyStudents();
    const gone = deletedOnLastNight(ben!);
    expect(gone.h.user.deletedAt?.date).toBe(story.nights.at(-1)!.toolDate);
    const r = restoreAll([alice!, gone], [STORY]);
    expect(r.uploads.map((u) => u.file)).toEqual(['alice-upload.json']);
    expect(r.notRestored.map((x) => x.student.h.user.username)).toEqual(['benjamin']);
    const summary = restoreAllSummary(r);
    expect(summary).toContain('No file for:\n  benjamin (Student 3, user id 3):\n    the account was deleted between');
    expect(summary).toContain(`recover-texts export ${nightPaths.at(-2)} --user benjamin -o benjamin-upload.json`);
  });

  it('two usernames that make one file name get two files', async () => {
    const [alice] = await storyStudents();
    const twin = (h: History, username: string): History => ({ ...h, user: { ...h.user, username } });
    const r = restoreAll(
      [
        { ...alice!, h: twin(alice!.h, 'a/b') },
        { ...alice!, h: twin(alice!.h, 'a_b') },
      ],
      [STORY],
    );
    expect(r.uploads.map((u) => u.file)).toEqual(['a_b-upload.json', 'a_b-upload-2.json']);
  });
});
