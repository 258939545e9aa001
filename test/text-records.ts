/**
 * Hand-made TextRecords for the merge tests: one student's texts, each given its task and body.
 * The text ids count up from 1 for each maker; the task name and placement are placeholders
 * (merging goes by task id and the snapshot's tasks).
 */
import type { TextRecord } from '../src/query/index.js';

export function textRecords(student: { username: string; userId: number; taskName: string; createdAt: string }) {
  let textId = 1;
  return (taskId: number, body: string, extra: Partial<TextRecord> = {}): TextRecord => ({
    task_name: student.taskName,
    username: student.username,
    created_at: student.createdAt,
    modified_at: null,
    is_enabled: true,
    text: body,
    textId: textId++,
    taskId,
    phase: 0,
    sortPosition: 0,
    storedTaskName: student.taskName,
    taskTitle: null,
    userId: student.userId,
    ...extra,
  });
}
