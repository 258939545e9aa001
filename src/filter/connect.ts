/**
 * psql's `\connect`, as pg_dumpall and `pg_dump --create` write it: the line
 * that starts the next database's part of a file that holds several. Read,
 * never run. pg_dumpall writes it with appendPsqlMetaConnect
 * (src/fe_utils/string_utils.c): `\connect NAME` for a name of letters,
 * digits, `_` and `.` (double-quoted when it needs it as an identifier), and
 * `\connect -reuse-previous=on "dbname='NAME'"` for any other, a libpq
 * connection string (appendConnStrVal) inside psql's double quotes. Older
 * versions wrote only `\connect NAME` (or `\connect - USER` for a new user).
 */

/** `\c` or `\connect`, then blanks or the end of the line. */
const CONNECT = /^\\c(?:onnect)?(?=[ \t]|$)/;

/**
 * The database a `\connect` line switches to; undefined when the line is not
 * a `\connect`, or keeps the database it is in (`-`, or a connection string
 * without a dbname).
 */
export function connectTarget(line: string): string | undefined {
  const m = CONNECT.exec(line);
  if (!m) return undefined;
  const words = psqlWords(line.slice(m[0].length));
  // `-reuse-previous=on|off` is an option, not the database.
  const first = words.find((w) => !(w.bare && /^-reuse-previous(=|$)/.test(w.text)));
  if (!first || (first.bare && first.text === '-')) return undefined;
  const value = first.text;
  if (/^postgres(?:ql)?:\/\//.test(value)) return uriDbname(value);
  if (value.includes('=')) return conninfoDbname(value);
  return value || undefined;
}

interface Word {
  text: string;
  /** No quote in it: options and `-` are recognised only so. */
  bare: boolean;
}

/**
 * The words of a backslash command's arguments, roughly as psql's lexer reads
 * them (psqlscanslash.l, OT_SQLIDHACK: quotes removed, no case folding): split at whitespace, with
 * `"..."` (`""` is a quote) and `'...'` (`''` or `\'` is a quote) joined into
 * the word they are in. Another backslash command on the line ends them.
 */
function psqlWords(s: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length || s[i] === '\\') break;
    let text = '';
    let bare = true;
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
      const c = s[i]!;
      if (c === '"' || c === "'") {
        bare = false;
        i++;
        for (; i < s.length; i++) {
          if (s[i] === c && s[i + 1] === c) text += s[++i];
          else if (s[i] === c) break;
          else if (c === "'" && s[i] === '\\' && i + 1 < s.length) text += s[++i];
          else text += s[i];
        }
        i++;
        continue;
      }
      text += c;
      i++;
    }
    words.push({ text, bare });
  }
  return words;
}

/** `dbname` of a libpq key=value connection string (conninfo_parse in fe-connect.c: '...' with \ escapes). */
function conninfoDbname(s: string): string | undefined {
  let dbname: string | undefined;
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const key = s.slice(i, eq).trim();
    i = eq + 1;
    while (i < s.length && /\s/.test(s[i]!)) i++;
    let value = '';
    if (s[i] === "'") {
      for (i++; i < s.length && s[i] !== "'"; i++) value += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
      i++;
    } else {
      for (; i < s.length && !/\s/.test(s[i]!); i++) value += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
    }
    if (key === 'dbname') dbname = value;
  }
  return dbname || undefined;
}

/** The database of a postgresql:// URI: its path, percent-decoded. */
function uriDbname(uri: string): string | undefined {
  const path = /^postgres(?:ql)?:\/\/[^/?#]*\/([^?#]*)/.exec(uri)?.[1];
  if (!path) return undefined;
  try {
    return decodeURIComponent(path) || undefined;
  } catch {
    return path;
  }
}
