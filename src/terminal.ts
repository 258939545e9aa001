/**
 * The terminal is an output device: a username, a task name or a file name
 * from a backup may hold an escape sequence (ESC [ ... that moves the cursor,
 * retitles the window, or worse) or a bidi override that makes text read
 * backwards. Everything written for a person to read (stderr's notes,
 * warnings, errors and progress; the tables and history on stdout) passes
 * through here, and such characters are shown as `\x1b`, `\u202e`, never
 * sent. Data (JSON, CSV, the upload file, exported texts) stays exact.
 */

/** C0 controls, DEL, C1 controls, and the invisible bidi/format controls (not ZWJ/ZWNJ, which emoji and scripts use). */
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;
/**
 * The same but for line feeds, tabs and CRLF line endings (texts typed in a
 * browser have them; they print as a line break): a block of text keeps its
 * lines and indentation. A lone CR, which would let a line overwrite what
 * came before it, is shown.
 */
const CONTROLS_BUT_LINES = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|\r(?!\n)/g;

/** Does `s` hold a character visible() would show escaped? */
export function hasControls(s: string): boolean {
  return new RegExp(CONTROLS.source).test(s);
}

/** Each of those characters, for code that spells them some other way (shell quoting). */
export function splitControls(s: string): { text: string; control: boolean }[] {
  const out: { text: string; control: boolean }[] = [];
  let last = 0;
  for (const m of s.matchAll(CONTROLS)) {
    if (m.index > last) out.push({ text: s.slice(last, m.index), control: false });
    out.push({ text: m[0], control: true });
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push({ text: s.slice(last), control: false });
  return out;
}

function shown(c: string): string {
  const n = c.charCodeAt(0);
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** One string from a backup (a name, a path, a table cell) as it may reach a terminal: every control character visible. */
export function visible(s: string): string {
  return s.replace(CONTROLS, shown);
}

/** A block of lines for a terminal: as visible(), but line feeds, tabs and CRLF stay. */
export function visibleLines(s: string): string {
  return s.replace(CONTROLS_BUT_LINES, shown);
}
