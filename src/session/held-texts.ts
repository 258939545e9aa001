/**
 * scan's texts, held in memory instead of loaded with the rest of a backup.
 *
 * scan reads every night of a year, and each night holds every student's texts (about 8 MB for
 * 300 students); loading all of them into PostgreSQL every night was most of its time, though
 * most texts are those of the night before. So, as a backup is read, its texts table's rows are
 * held here as the filter hands them on (the dump's COPY lines, FilterOptions.rawTexts, indexed
 * by text id), and only the table's definition and its (now empty) data blocks go to the load.
 * At the backup's turn (scan reads them in date order), when all its other rows are those of the
 * backup before (the same users, tasks and encoding, to the byte: they share a schema), its rows
 * are compared with that backup's by text id (`changedKeys`), and only the texts of each (user,
 * task) that changed are loaded (`loadHeld` in load.ts) and queried. Otherwise every row is, and
 * checked as a whole load's would be.
 *
 * The rows load as they come instead (`loaded`): a SQL_ASCII backup's (its fields are checked,
 * and reported on, as they load; they are still indexed, for the next night to compare with), a
 * backup's past HOLD_TEXT_BYTES, one that sets its encoding after some of them, and a pg_dumpall
 * file's (texts of several databases); those are not indexed.
 */
import type { FilterEvent, FilterStats, WantedTable } from '../filter/index.js';

type TextsTable = 'tasktexts' | 'notes';

const isTexts = (t: WantedTable): t is TextsTable => t === 'tasktexts' || t === 'notes';

/**
 * Bytes of one backup's texts rows held (or indexed) in memory, at most, each row's index
 * (ROW_BYTES) counted: a class of 300 students has about 8 MB. Past this, the rows load as they
 * come, and are not compared by id. (They are held in TextSlabs' pieces of memory, filled with
 * whole rows, a piece given up with less than a quarter of it unused: at most 4/3 of their bytes.)
 */
export const HOLD_TEXT_BYTES = 48 * 2 ** 20;

/**
 * The memory held rows are copied into, in pieces of this size, reused from one backup to the next
 * (TextSlabs): each piece is filled with whole rows, and a row larger than a quarter of a piece
 * gets memory of its own, so a piece is given up with less than a quarter of it unused.
 */
const SLAB_BYTES = 2 ** 20;

/** A row larger than this gets memory of its own: a piece is given up with less than a quarter of it unused. */
const MAX_SLAB_ROW = SLAB_BYTES / 4;

/** Pieces kept for later backups, at most: past a backup with an unusually large texts table, the rest go. */
const SLABS_KEPT = 64;

/**
 * The memory a run's held rows are copied into: pieces (SLAB_BYTES) taken by each backup's
 * HeldTexts and given back when it is discarded, to be taken by a later one; and, the same way,
 * their index's columns (RowColumns).
 *
 * Why not keep the rows where they came (views of the source's chunks) or in copies of their
 * own: a year's scan holds about 3 GB of texts, a few nights at a time. Memory that lives that
 * long outlasts V8's young generation, and V8 frees such memory only in a full collection, which
 * it starts every 64 MB or so: held there, the texts cost 60 to 80 full collections of the whole
 * heap a year, each marking every object. Reused, they add none (a year's scan makes about 30,
 * for the rest of its reading, against 75).
 */
export class TextSlabs {
  private readonly free: Buffer[] = [];
  /** Index columns given back (RowColumns), for later backups' tables. */
  private readonly columns: RowColumns[] = [];

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  }

  /** A table's index columns, empty. */
  takeColumns(): RowColumns {
    const cols = this.columns.pop();
    cols?.reset();
    return cols ?? new RowColumns();
  }

  give(slabs: readonly Buffer[], columns?: RowColumns): void {
    this.free.push(...slabs.slice(0, Math.max(0, SLABS_KEPT - this.free.length)));
    if (columns && this.columns.length < COLUMNS_KEPT && columns.rows <= COLUMNS_KEPT_ROWS) this.columns.push(columns);
  }
}

/** Index columns kept for later backups, at most: two tables (tasktexts and notes) of each backup held at once. */
const COLUMNS_KEPT = 32;

/**
 * Rows the index columns kept have room for, at most (about 3.5 MB each): columns grown past this by
 * an unusually large texts table go with it, not kept for the rest of the run (a class of 300
 * has about 9,000 rows).
 */
const COLUMNS_KEPT_ROWS = 2 ** 16;

/** What a row's index costs beyond its bytes: its place in six columns of 8 bytes or fewer and two slots of the id table. */
const ROW_BYTES = 64;

/** Where each newline of `buf` is. */
function lineEnds(buf: Buffer): number[] {
  const ends: number[] = [];
  for (let at = buf.indexOf(LF); at >= 0; at = buf.indexOf(LF, at + 1)) ends.push(at);
  return ends;
}

/** Digits of an id read as a number, at most: exact in a double. */
const MAX_ID_DIGITS = 15;

/** The events of a texts table, held: its rows as bytes (off the JavaScript heap, for as long as they wait). */
type HeldEvent = Exclude<FilterEvent, { type: 'rows' }>;

const LF = 0x0a;
const TAB = 0x09;
const ZERO = 0x30;

/**
 * The id in buf[from, to) when it is a plain integer of up to MAX_ID_DIGITS digits written as
 * PostgreSQL writes one (no leading zero: the scratch columns are text, and `06` is not `6`
 * there), else -1.
 */
function plainId(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > MAX_ID_DIGITS || (buf[from] === ZERO && to - from > 1)) return -1;
  let n = 0;
  for (let k = from; k < to; k++) {
    const d = buf[k]! - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Rows a table's columns have room for at first (they double as rows come: a class of 300 has about 9,000). */
const FIRST_ROWS = 1024;

/**
 * One table's index, by row number: where each row is in the held bytes (its piece, start and end)
 * and its text id, user id and task id, in typed columns; and row numbers by text id, open
 * addressing over an Int32Array (each slot a row number, -1 empty). Reused from one backup to the
 * next (TextSlabs), so a year's nights grow no new columns. A Map of a night's 9,000 ids, and
 * arrays of numbers, took a year's scan about 0.6 s more of the main thread.
 */
class RowColumns {
  piece = new Int32Array(FIRST_ROWS);
  start = new Int32Array(FIRST_ROWS);
  end = new Int32Array(FIRST_ROWS);
  id = new Float64Array(FIRST_ROWS);
  user = new Float64Array(FIRST_ROWS);
  task = new Float64Array(FIRST_ROWS);
  private slots = new Int32Array(2 * FIRST_ROWS).fill(-1);
  /** 32 less the log2 of the slots' number: an id's first slot is the top bits of its hash (slotOf). */
  private shift = 32 - Math.log2(2 * FIRST_ROWS);
  /** This table's own hash (slotOf): a backup cannot choose ids that all fall on the same slots. */
  private readonly seed = (Math.random() * 2 ** 32) >>> 0;
  private ids = 0;

  /** Rows the columns have room for. */
  get rows(): number {
    return this.id.length;
  }

  /** Room in every column for row `row`, the next. */
  room(row: number): void {
    if (row < this.id.length) return;
    const twice = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.piece = twice(this.piece);
    this.start = twice(this.start);
    this.end = twice(this.end);
    this.id = twice(this.id);
    this.user = twice(this.user);
    this.task = twice(this.task);
  }

  /** The row with this id, or -1. */
  rowOf(id: number): number {
    const mask = this.slots.length - 1;
    for (let k = slotOf(id, this.seed, this.shift); ; k = (k + 1) & mask) {
      const row = this.slots[k]!;
      if (row < 0 || this.id[row] === id) return row;
    }
  }

  /**
   * Row `row` found by its id (set in `id` first); false when another row has that id, or when
   * MAX_PROBES slots in a row are taken (ids that fall together: the rows are then not compared by id).
   */
  addId(row: number): boolean {
    if (2 * (this.ids + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    const id = this.id[row]!;
    const mask = this.slots.length - 1;
    let k = slotOf(id, this.seed, this.shift);
    for (let probes = 0; this.slots[k]! >= 0; k = (k + 1) & mask) if (this.id[this.slots[k]!] === id || ++probes > MAX_PROBES) return false;
    this.slots[k] = row;
    this.ids++;
    return true;
  }

  /** Empty, for another backup's rows. */
  reset(): void {
    this.slots.fill(-1);
    this.ids = 0;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size).fill(-1);
    this.shift = 32 - Math.log2(size);
    const mask = size - 1;
    for (const row of old) {
      if (row < 0) continue;
      let k = slotOf(this.id[row]!, this.seed, this.shift);
      while (this.slots[k]! >= 0) k = (k + 1) & mask;
      this.slots[k] = row;
    }
  }
}

/**
 * Slots an id may look past its first before its table gives up comparing by id (addId). With
 * the table at most half full and a hash of its own, honest ids look past a few.
 */
const MAX_PROBES = 64;

/**
 * A plain id's first slot: its low and high 32 bits each mixed with the table's seed and
 * scrambled (MurmurHash3's finaliser), the result's top bits.
 */
function slotOf(id: number, seed: number, shift: number): number {
  let h = Math.imul((id | 0) ^ seed, 0xcc9e2d51);
  h = Math.imul(h ^ ((id / 2 ** 32) | 0), 0x1b873593) ^ seed;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> shift;
}

/**
 * One texts table's rows as they come, for HeldTexts: each row's place in the held bytes (its
 * piece, start and end) and its text id, user id and task id, by row number, in typed columns.
 */
class TableRows {
  /** Its begin, rows and end events as they came; null once they went on to the load. */
  events: HeldEvent[] | null = [];
  /** The COPY columns of its data blocks; null once two differ. */
  columns: string[] | null | undefined;
  /** Its rows can be compared by id: each id a plain number, none repeated, the three columns in every block. */
  comparable = true;
  /** Rows indexed. */
  count = 0;
  /** The held bytes its rows are in: views of `slabs`' pieces, and rows too large for one, each a row's `piece`. */
  readonly pieces: Buffer[] = [];
  /** Its index (taken from `pool`, given back by `clear`). */
  readonly cols: RowColumns;
  /** Defined (CREATE TABLE) or given data. */
  present = false;
  /** The id's, user id's and task id's field numbers in the block's rows. */
  private fields = { id: -1, user: -1, task: -1 };
  /** The pieces of `slabs`' memory its rows are in, the last one being filled from `used` on. */
  readonly slabs: Buffer[] = [];
  private used = 0;

  constructor(private readonly pool: TextSlabs) {
    this.cols = pool.takeColumns();
  }

  /** Take a begin, rows or end event (its rows indexed while `index`); what to hold instead of it. */
  take(e: FilterEvent & { table: TextsTable }, index: boolean): HeldEvent[] {
    if (e.type === 'begin') {
      const same = this.columns === undefined || (this.columns !== null && this.columns.join() === e.columns.join());
      this.columns = same ? e.columns : null;
      const [id, user, task] = ['id', 'user_id', 'task_id'].map((c) => e.columns.indexOf(c)) as [number, number, number];
      this.fields = { id, user, task };
      if (!same || id < 0 || user < 0 || task < 0) this.comparable = false;
      return [e];
    }
    if (e.type !== 'rows' && e.type !== 'bytes') return [e];
    const src = typeof e.data === 'string' ? Buffer.from(e.data, 'latin1') : e.data;
    const ends = e.type === 'bytes' && e.ends?.length === e.count ? e.ends : lineEnds(src);
    if (ends.at(-1) !== src.length - 1) {
      // Not whole lines (never from the filter): held as they are, in memory of their own.
      const data = Buffer.from(src);
      if (index && this.comparable) this.index(data, ends, 0, ends.length, 0);
      return [{ type: 'bytes', table: e.table, data, count: e.count }];
    }
    // Copied into the pool's memory, a run of whole rows to each piece of it (a row too large: into its own).
    const held: HeldEvent[] = [];
    for (let row = 0; row < ends.length; ) {
      const from = row ? ends[row - 1]! + 1 : 0;
      const first = ends[row]! + 1 - from;
      if (first > MAX_SLAB_ROW) {
        const data = Buffer.from(src.subarray(from, from + first));
        if (index && this.comparable) this.index(data, ends, row, row + 1, from);
        held.push({ type: 'bytes', table: e.table, data, count: 1 });
        row++;
        continue;
      }
      let slab = this.slabs.at(-1);
      if (!slab || first > slab.length - this.used) {
        slab = this.pool.take();
        this.slabs.push(slab);
        this.used = 0;
      }
      let last = row;
      while (last + 1 < ends.length && ends[last + 1]! + 1 - from <= slab.length - this.used) last++;
      const n = ends[last]! + 1 - from;
      src.copy(slab, this.used, from, from + n);
      const data = slab.subarray(this.used, this.used + n);
      this.used += n;
      if (index && this.comparable) this.index(data, ends, row, last + 1, from);
      held.push({ type: 'bytes', table: e.table, data, count: last - row + 1 });
      row = last + 1;
    }
    return held;
  }

  /**
   * Index the rows held as `buf`: those whose newlines are at ends[first, last), less `offset`
   * (where buf began in the rows they came in); and a last one without a newline after them, up
   * to buf's end.
   */
  private index(buf: Buffer, ends: readonly number[], first: number, last: number, offset: number): void {
    const piece = this.pieces.push(buf) - 1;
    const { id: idField, user: userField, task: taskField } = this.fields;
    const lastField = Math.max(idField, userField, taskField);
    for (let k = first, pos = 0; pos < buf.length; k++) {
      const end = k < last ? ends[k]! - offset : buf.length;
      let id = -1;
      let user = -1;
      let task = -1;
      // The first fields, up to the last of the three: each between tabs, never past the line.
      for (let f = 0, from = pos; f <= lastField; f++) {
        let to = from;
        while (to < end && buf[to] !== TAB) to++;
        if (f === idField) id = plainId(buf, from, to);
        else if (f === userField) user = plainId(buf, from, to);
        else if (f === taskField) task = plainId(buf, from, to);
        from = to + 1;
      }
      const row = this.count;
      const cols = this.cols;
      cols.room(row);
      cols.id[row] = id;
      if (id < 0 || user < 0 || task < 0 || !cols.addId(row)) {
        this.comparable = false;
        return;
      }
      cols.piece[row] = piece;
      cols.start[row] = pos;
      cols.end[row] = end;
      cols.user[row] = user;
      cols.task[row] = task;
      this.count++;
      pos = end + 1;
    }
  }

  /** Rows `a` to `a + n - 1` of this table and `b` to `b + n - 1` of `other`, each run one after another in one piece, are the same bytes. */
  same(a: number, other: TableRows, b: number, n = 1): boolean {
    const from = this.cols.start[a]!;
    const to = this.cols.end[a + n - 1]!;
    const otherFrom = other.cols.start[b]!;
    const otherTo = other.cols.end[b + n - 1]!;
    return to - from === otherTo - otherFrom && this.bytesOf(a).compare(other.bytesOf(b), otherFrom, otherTo, from, to) === 0;
  }

  /** The held bytes row `r` is in (its start and end are counted in them). */
  bytesOf(r: number): Buffer {
    return this.pieces[this.cols.piece[r]!]!;
  }

  /** Row `r + 1` follows row `r` in the same piece. */
  follows(r: number): boolean {
    const { piece, start, end } = this.cols;
    return r + 1 < this.count && piece[r + 1] === piece[r] && start[r + 1] === end[r]! + 1;
  }

  /** Its memory is let go (HeldTexts.discard). */
  clear(): void {
    this.pool.give(this.slabs, this.cols);
    this.slabs.length = 0;
    this.pieces.length = 0;
    this.count = 0;
    this.events = null;
    this.comparable = false;
  }
}

/** A backup's texts rows, held back from its load as they pass (see the module comment). */
export class HeldTexts {
  private readonly tables: Record<TextsTable, TableRows>;

  /**
   * `slabs`: the run's memory for held rows (shared by its backups' HeldTexts); `limit`: bytes of
   * texts rows held or indexed at most (HOLD_TEXT_BYTES).
   */
  constructor(
    private readonly slabs: TextSlabs,
    private readonly limit = HOLD_TEXT_BYTES,
  ) {
    this.tables = { tasktexts: new TableRows(slabs), notes: new TableRows(slabs) };
  }

  /** Its memory went back to `slabs` (discard): its rows are gone. */
  private discarded = false;
  /** The backup's client_encoding, replayed before the rows when they load. */
  private encoding: { type: 'encoding'; name: string } | undefined;
  /** Rows go on to the load as they come (and are indexed only while `indexing`). */
  private passing = false;
  private indexing = true;
  private bytes = 0;

  /** The texts table the queries read: tasktexts when the backup has it (query's textsTableOf). */
  get table(): TextsTable {
    return this.tables.tasktexts.present || !this.tables.notes.present ? 'tasktexts' : 'notes';
  }

  /** Its rows are in the database already (loaded with the backup): nothing is held. */
  get loaded(): boolean {
    this.assertHeld();
    return this.tables[this.table].events === null;
  }

  /** Its rows, indexed by text id; null when they cannot be compared by id. */
  get rows(): TableRows | null {
    this.assertHeld();
    const t = this.tables[this.table];
    return t.comparable && t.columns ? t : null;
  }

  /**
   * The backup's events with its texts table's rows held back: that table's begin and end come
   * after everything else (the load counts its data blocks by them), without rows. `stats` is
   * the filter's: a pg_dumpall file says so in its first line, before any event.
   */
  async *through(events: AsyncIterable<FilterEvent>, stats: FilterStats): AsyncGenerator<FilterEvent> {
    for await (const e of events) {
      if (this.indexing && (stats.clusterDump || e.type === 'database')) yield* this.release(false);
      if (e.type === 'encoding') {
        // The rows held load after everything else, under the last encoding set: one set after
        // some were held (pg_dump sets it once, first) was not theirs. They load as they come instead.
        if (this.indexing && Object.values(this.tables).some((t) => t.events?.length)) yield* this.release(false);
        this.encoding = e;
        // Its fields are checked, and reported on, as they load (load/encoding.ts).
        if (e.name.toUpperCase() === 'SQL_ASCII') yield* this.release(true);
      }
      if (e.type === 'table' && isTexts(e.table)) this.tables[e.table].present = true;
      if ((e.type === 'begin' || e.type === 'rows' || e.type === 'bytes' || e.type === 'end') && isTexts(e.table)) {
        const t = this.tables[e.table];
        t.present = true;
        if (e.type === 'rows' || e.type === 'bytes') this.bytes += e.data.length + e.count * ROW_BYTES;
        if (this.indexing && this.bytes > this.limit) yield* this.release(false);
        if (this.passing && !this.indexing) {
          yield e;
          continue;
        }
        const held = t.take(e as typeof e & { table: TextsTable }, this.indexing);
        if (!this.passing) {
          t.events!.push(...held);
          continue;
        }
      }
      yield e;
    }
    // The other texts table (a backup made while the server renamed notes to tasktexts) loads whole.
    const other = this.tables[this.table === 'tasktexts' ? 'notes' : 'tasktexts'];
    yield* other.events ?? [];
    other.events = null;
    for (const e of this.tables[this.table].events ?? []) if (e.type !== 'bytes') yield e;
  }

  /** From here on, rows go on to the load as they come: those held first (still indexed, with `index`). */
  private *release(index: boolean): Generator<FilterEvent> {
    this.passing = true;
    if (!index) {
      this.indexing = false;
      for (const t of Object.values(this.tables)) t.comparable = false;
    }
    for (const t of Object.values(this.tables)) {
      yield* t.events ?? [];
      t.events = null;
    }
  }

  /**
   * The events that load the held rows, after the load of the rest (scan's turn): all of them as
   * they came, or only the rows numbered (as `rows` has them), in one data block.
   */
  *replay(rows: readonly number[] | 'all'): Generator<FilterEvent> {
    this.assertHeld();
    const t = this.tables[this.table];
    if (!t.events) return;
    if (this.encoding) yield this.encoding;
    if (rows === 'all') {
      for (const e of t.events) {
        yield e;
        this.assertHeld();
      }
      return;
    }
    if (!rows.length || !t.columns) return;
    // Each row with its newline (held rows end in one, the last of a chunk too).
    const data = Buffer.concat(rows.map((r) => t.bytesOf(r).subarray(t.cols.start[r], t.cols.end[r]! + 1)));
    yield { type: 'begin', table: this.table, columns: t.columns };
    yield { type: 'bytes', table: this.table, data, count: rows.length };
    yield { type: 'end', table: this.table };
  }

  /**
   * Done with its rows (scan: the backup after it was compared with it): their memory goes back to
   * the run's, for a later backup's rows. It may not be read again.
   */
  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    // Nothing of it stays reachable from here, the index's views of that memory included.
    for (const t of Object.values(this.tables)) t.clear();
  }

  /** Its memory may hold a later backup's rows once discarded: reading it then would be a silent mix-up. */
  private assertHeld(): void {
    if (this.discarded) throw new Error('held texts read after they were discarded');
  }
}

/** A (user, task), by their ids. */
export interface TextKey {
  user: number;
  task: number;
}

/**
 * The (user, task) keys whose texts differ between two backups' held rows: a text that came,
 * went, or changed anything (its user, task, text or timestamps: its line). A text that moved to
 * another user or task changes both keys. Null when the two cannot be compared by id: use every
 * text.
 */
export function changedKeys(before: HeldTexts, now: HeldTexts): TextKey[] | null {
  const a = before.rows;
  const b = now.rows;
  if (!a || !b || before.table !== now.table || a.columns!.join() !== b.columns!.join()) return null;
  const keys = new Map<string, TextKey>();
  const add = ({ cols: { user, task } }: TableRows, r: number) => keys.set(`${user[r]}:${task[r]}`, { user: user[r]!, task: task[r]! });
  // The row before each of b's, -1 for none: most often the one after the row before's (most rows keep their
  // order from one night to the next), else found by id.
  const was = new Int32Array(b.count);
  for (let r = 0; r < b.count; r++) {
    const next = r ? was[r - 1]! + 1 : 0;
    was[r] = next < a.count && a.cols.id[next] === b.cols.id[r] ? next : a.cols.rowOf(b.cols.id[r]!);
  }
  // A run of rows in the same order as the night before, one after another, is compared at once, and row by
  // row only when it differs.
  const kept = new Uint8Array(a.count);
  for (let r = 0; r < b.count; ) {
    let n = 1;
    if (was[r]! >= 0) while (b.follows(r + n - 1) && a.follows(was[r + n - 1]!) && was[r + n] === was[r + n - 1]! + 1) n++;
    const all = was[r]! >= 0 && b.same(r, a, was[r]!, n);
    for (let k = r; k < r + n; k++) {
      if (was[k]! >= 0) kept[was[k]!] = 1;
      if (all || (was[k]! >= 0 && b.same(k, a, was[k]!))) continue;
      add(b, k);
      if (was[k]! >= 0) add(a, was[k]!);
    }
    r += n;
  }
  // Gone: a's rows no row of b's has the id of (ids are unique in each).
  for (let r = 0; r < a.count; r++) if (!kept[r]) add(a, r);
  return [...keys.values()];
}

/** The numbers of the held rows of the keys given: every text of each. */
export function rowsOfKeys(held: HeldTexts, keys: readonly TextKey[]): number[] {
  const t = held.rows;
  if (!t || !keys.length) return [];
  const wanted = new Map<number, Set<number>>();
  for (const k of keys) (wanted.get(k.user) ?? wanted.set(k.user, new Set()).get(k.user)!).add(k.task);
  const rows: number[] = [];
  const { user, task } = t.cols;
  for (let r = 0; r < t.count; r++) if (wanted.get(user[r]!)?.has(task[r]!)) rows.push(r);
  return rows;
}
