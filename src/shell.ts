/**
 * Commands the tool prints for the admin to paste: export's advice, history's
 * restore steps, merge's warnings and the report's banner all quote their
 * arguments here, one way.
 */
import { hasControls, splitControls } from './terminal.js';

/**
 * A word the shell passes unchanged: quoted unless it is plainly safe. Every
 * argument of every command the tool prints goes through it (a date with a
 * space, a path with a quote), so the command works when pasted.
 */
export function shellWord(s: string): string {
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  const quoted = (t: string) => `'${t.replace(/'/g, `'\\''`)}'`;
  if (!hasControls(s)) return quoted(s);
  // A control character (a name from a backup) is spelled with printf's octal escapes, in any POSIX
  // shell, so the printed command shows no raw control character and still passes the exact name.
  // A line feed stays as it is: $(...) would drop it at the end.
  return splitControls(s)
    .map((p) => (p.control && p.text !== '\n' ? `"$(printf '${[...Buffer.from(p.text, 'utf8')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}')"` : quoted(p.text)))
    .join('');
}
