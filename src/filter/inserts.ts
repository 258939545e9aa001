/**
 * INSERT statements' rows turned into COPY rows: consecutive INSERTs into the
 * same table with the same columns (as pg_dump --inserts writes them) share
 * one block of rows, projected and filtered as COPY data is.
 */
import { RecoverError } from '../errors.js';
import type { RowBatches } from './batches.js';
import { project, type Projection } from './projection.js';
import { KEPT_SETTINGS, type WantedTable } from './tables.js';

export class InsertRows {
  /** The open block, so consecutive INSERTs share one. */
  private block: { key: string; projection: Projection } | null = null;

  constructor(
    private readonly out: RowBatches,
    private readonly textsOf: ReadonlySet<string> | undefined,
  ) {}

  /** One INSERT's rows (values as the tokenizer read them) into `table`'s `source` columns; `lineNo` for messages. */
  add(table: WantedTable, source: string[], rows: (string | null)[][], lineNo: number): void {
    const key = table + '\0' + source.join('\0');
    if (this.block?.key !== key) {
      this.close();
      const projection = project(table, source, this.textsOf);
      this.block = { key, projection };
      this.out.begin(table, projection.names);
    }
    const p = this.block.projection;
    for (const row of rows) {
      if (row.length !== p.sourceWidth) {
        throw new RecoverError('BACKUP_BAD_ROW', `an INSERT into ${table} near line ${lineNo} has ${row.length} values, expected ${p.sourceWidth}`, {
          hint: 'the backup is damaged',
        });
      }
      if (p.keyIndex >= 0 && !KEPT_SETTINGS.has(row[p.keyIndex] ?? '')) continue;
      if (p.userIndex >= 0 && !p.authors!.has(row[p.userIndex] ?? '')) continue;
      this.out.add(p.pick.map((k) => copyField(row[k] ?? null)).join('\t'));
    }
  }

  /** Anything but another INSERT came: the open block ends. */
  close(): void {
    if (!this.block) return;
    this.block = null;
    this.out.end();
  }
}

/** A value in COPY text format: backslash escapes per PostgreSQL's copyto.c. */
export function copyField(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}
