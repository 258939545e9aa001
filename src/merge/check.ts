/**
 * The race server's upload rules for a texts JSON (race-server.md), as a
 * check that lists every problem: what the upload would warn about, refuse,
 * or fail on.
 */
import type { ServerText } from '../query/index.js';

/** The keys of one element, in the server's order. */
const UPLOAD_KEYS = ['task_name', 'username', 'created_at', 'modified_at', 'is_enabled', 'text'] as const;
/** The upload parses created_at with exactly this form ("%Y-%m-%d %H:%M"); null becomes "now". */
export const CREATED_AT_PATTERN = /^\d{4}-\d\d-\d\d \d\d:\d\d$/;

export function checkUpload(elements: readonly ServerText[], expect: { username: string; taskNames: ReadonlySet<string> }): string[] {
  const problems: string[] = [];
  elements.forEach((e, k) => {
    const at = `element ${k} (${JSON.stringify(e.task_name)})`;
    const keys = Object.keys(e);
    if (keys.length !== UPLOAD_KEYS.length || !UPLOAD_KEYS.every((key) => keys.includes(key))) problems.push(`${at}: keys ${keys.join(', ')}, not ${UPLOAD_KEYS.join(', ')}`);
    if (!expect.taskNames.has(e.task_name)) problems.push(`${at}: no task stored as ${JSON.stringify(e.task_name)}`);
    if (e.username !== expect.username) problems.push(`${at}: username ${JSON.stringify(e.username)}, not ${JSON.stringify(expect.username)}`);
    if (e.created_at !== null && !CREATED_AT_PATTERN.test(e.created_at)) problems.push(`${at}: created_at ${JSON.stringify(e.created_at)} is not YYYY-MM-DD HH:MM or null`);
    if (typeof e.text !== 'string') problems.push(`${at}: text is not a string`);
    if (typeof e.is_enabled !== 'boolean') problems.push(`${at}: is_enabled is not true or false`);
  });
  return problems;
}
