/**
 * Escaping for the report. Every string from a backup goes through esc()
 * before it reaches the page, in text and in attribute values alike.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or a quoted attribute value, safe in HTML and in inline SVG. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Invisible characters made visible, as a text is shown (never as it is
 * restored): C0 controls as their Unicode control pictures (U+2400 block),
 * DEL as U+2421, a CR inside a line as U+240D. A CR ending a line (a CRLF
 * line break, as browsers write) is just the line break and is dropped.
 * Tab and LF stay as they are.
 */
export function shown(s: string): string {
  return s
    .replace(/\r(?=\n|$)/g, '')
    .replace(/[\x00-\x08\x0b-\x1f]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0)))
    .replace(/\x7f/g, '\u2421');
}
