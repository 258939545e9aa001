/**
 * Backups of SQL_ASCII databases. SQL_ASCII means "no encoding": the server
 * stored whatever bytes each client sent, so one backup can hold UTF-8 next
 * to LATIN1 or WIN1252, and nothing in it says which is which. Loaded as
 * they are, bytes that are not UTF-8 would come back as U+FFFD: a silently
 * damaged export. So each field is checked: valid UTF-8 passes unchanged;
 * any other field is read in the encoding the admin named with
 * --backup-encoding, or, without one, loaded with U+FFFD in place of the bad
 * bytes and recorded, so the query can refuse to export it (see query/).
 *
 * The check works per field, not per dump: a SQL_ASCII database written by
 * browsers in different encodings is the common case, and a field of valid
 * UTF-8 is UTF-8 (legacy text with accents is almost never valid UTF-8).
 */
import { isUtf8 } from 'node:buffer';
import { RecoverError } from '../errors.js';
import { copyField, type WantedTable } from '../filter/index.js';

/** A field that is not valid UTF-8 and could not be read in a named encoding. */
export interface NotUtf8Field {
  table: WantedTable;
  /** The row's `id` column as text (null for a table without one). */
  id: string | null;
  column: string;
}

/**
 * PostgreSQL's encoding names (pg_wchar.h) and the WHATWG decoder for each
 * (Node's TextDecoder, with full ICU as Node ships it). LATIN1 is decoded by
 * Buffer's latin1, which is ISO-8859-1 exactly (WHATWG's "latin1" label is
 * windows-1252, which differs at 0x80-0x9F).
 */
const ENCODINGS: Record<string, string> = {
  LATIN1: 'latin1',
  LATIN2: 'iso-8859-2',
  LATIN3: 'iso-8859-3',
  LATIN4: 'iso-8859-4',
  LATIN5: 'windows-1254', // ISO-8859-9; WHATWG decodes it as its superset windows-1254
  LATIN6: 'iso-8859-10',
  LATIN7: 'iso-8859-13',
  LATIN8: 'iso-8859-14',
  LATIN9: 'iso-8859-15',
  LATIN10: 'iso-8859-16',
  ISO_8859_5: 'iso-8859-5',
  ISO_8859_6: 'iso-8859-6',
  ISO_8859_7: 'iso-8859-7',
  ISO_8859_8: 'iso-8859-8',
  WIN1250: 'windows-1250',
  WIN1251: 'windows-1251',
  WIN1252: 'windows-1252',
  WIN1253: 'windows-1253',
  WIN1254: 'windows-1254',
  WIN1255: 'windows-1255',
  WIN1256: 'windows-1256',
  WIN1257: 'windows-1257',
  WIN1258: 'windows-1258',
  WIN866: 'ibm866',
  WIN874: 'windows-874',
  KOI8R: 'koi8-r',
  KOI8U: 'koi8-u',
  EUC_JP: 'euc-jp',
  SJIS: 'shift_jis',
  EUC_KR: 'euc-kr',
  UHC: 'euc-kr',
  EUC_CN: 'gbk',
  GBK: 'gbk',
  GB18030: 'gb18030',
  BIG5: 'big5',
};

/** Other spellings people use, keyed without case, '-', '_' or spaces. */
const ALIASES: Record<string, string> = {
  ISO88591: 'LATIN1', ISO885915: 'LATIN9', ISO88592: 'LATIN2', ISO88599: 'LATIN5',
  WINDOWS1250: 'WIN1250', WINDOWS1251: 'WIN1251', WINDOWS1252: 'WIN1252', CP1250: 'WIN1250', CP1251: 'WIN1251', CP1252: 'WIN1252',
  SHIFTJIS: 'SJIS', KOI8: 'KOI8R',
};

const squash = (s: string) => s.toUpperCase().replace(/[-_ ]/g, '');

/** The PostgreSQL name of an encoding the admin gave, or a usage error that lists some. */
export function resolveBackupEncoding(name: string): string {
  const key = squash(name);
  const pgName = Object.keys(ENCODINGS).find((k) => squash(k) === key) ?? ALIASES[key];
  if (pgName) {
    try {
      if (!['LATIN1', 'WIN1252'].includes(pgName)) new TextDecoder(ENCODINGS[pgName]);
      return pgName;
    } catch {
      // This Node.js was built without that decoder (small-icu); say so below.
    }
  }
  throw new RecoverError('USAGE_BAD_ENCODING', `--backup-encoding ${JSON.stringify(name)} is not an encoding recover-texts can read`, {
    hint: 'use a PostgreSQL encoding name: LATIN1 (Western European), WIN1252 (Windows Western), LATIN9, LATIN2, WIN1250, WIN1251, KOI8R, SJIS, ...',
  });
}

/**
 * WIN1252's 0x80-0x9F (the rest is ISO-8859-1); '' where it has no character, as in
 * PostgreSQL's table. Node 20's TextDecoder('windows-1252') decodes these as ISO-8859-1.
 */
const WIN1252_80_9F = '€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ';

/** Reads one field's raw bytes in the named encoding; null when they are not valid in it. */
function decoderFor(pgName: string): (bytes: Buffer) => string | null {
  // Every byte is some LATIN1 character, but 0x80-0x9F are C1 controls no one types: bytes
  // there are WIN1252's curly quotes, dashes and euro sign, so LATIN1 would be silently wrong.
  if (pgName === 'LATIN1') return (b) => (b.some((x) => x >= 0x80 && x <= 0x9f) ? null : b.toString('latin1'));
  if (pgName === 'WIN1252') {
    return (b) => {
      const s = b.toString('latin1').replace(/[\x80-\x9f]/g, (c) => WIN1252_80_9F[c.charCodeAt(0) - 0x80]!);
      return s.includes('\0') ? null : s;
    };
  }
  const d = new TextDecoder(ENCODINGS[pgName], { fatal: true });
  return (b) => {
    try {
      return d.decode(b);
    } catch {
      return null;
    }
  };
}

/** One COPY text field's bytes (binary string), backslash escapes undone (copyfromparse.c). */
function unescapeCopy(field: string): string {
  return field.replace(/\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))/gs, (_m, oct?: string, hex?: string, ch?: string) => {
    if (oct) return String.fromCharCode(parseInt(oct, 8) & 0xff);
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' } as Record<string, string>)[ch!] ?? ch!;
  });
}

/** Checks the COPY rows of a SQL_ASCII backup, field by field; see the top of this file. */
export class Utf8Check {
  readonly notUtf8: NotUtf8Field[] = [];
  /** Fields read in --backup-encoding. */
  converted = 0;
  private readonly decode: ((bytes: Buffer) => string | null) | null;

  constructor(readonly backupEncoding?: string) {
    this.decode = backupEncoding ? decoderFor(backupEncoding) : null;
  }

  /** COPY text lines (binary string) of `table` with `columns`; returns them as valid UTF-8. */
  rows(table: WantedTable, columns: readonly string[], data: string): string {
    if (isUtf8(Buffer.from(data, 'latin1'))) return data; // the usual case: one check per batch
    const idAt = columns.indexOf('id');
    return data
      .split('\n')
      .map((line) => {
        if (isUtf8(Buffer.from(line, 'latin1'))) return line;
        const fields = line.split('\t');
        return fields
          .map((field, k) => {
            const bytes = Buffer.from(unescapeCopy(field), 'latin1');
            if (isUtf8(bytes)) return field;
            const text = this.decode?.(bytes) ?? null;
            if (text !== null) {
              this.converted++;
            } else {
              this.notUtf8.push({ table, id: idAt >= 0 ? (fields[idAt] ?? null) : null, column: columns[k] ?? '?' });
            }
            // As UTF-8 bytes in COPY text again; without a decoding, U+FFFD marks the bad bytes.
            return Buffer.from(copyField(text ?? bytes.toString('utf8')), 'utf8').toString('latin1');
          })
          .join('\t');
      })
      .join('\n');
  }
}
