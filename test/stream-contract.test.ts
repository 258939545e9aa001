/**
 * The stream contract of the pipeline's own streams (as pg-copy-streams tests
 * its own): exactly one 'finish' or one 'error'; they work in pipeline();
 * destroy() in mid-flight releases what they hold. The filter is fed the
 * demo backup's SQL; the loader writes into a real throwaway PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../src/engine/index.js';
import { SqlFilterStream, type FilterEvent } from '../src/filter/index.js';
import { createScratchTables, Loader } from '../src/load/index.js';
import { DEMO } from './helpers.js';
import { Scope } from '../src/scope.js';

const sql = gunzipSync(readFileSync(DEMO));
/** The demo's SQL in chunks of `size` bytes. */
const chunks = (buf: Buffer, size = 997) => Array.from({ length: Math.ceil(buf.length / size) }, (_, k) => buf.subarray(k * size, (k + 1) * size));

/** Count a stream's ending events. */
function watch(s: NodeJS.EventEmitter) {
  const seen = { finish: 0, error: 0, close: 0 };
  s.on('finish', () => seen.finish++);
  s.on('error', () => seen.error++);
  s.on('close', () => seen.close++);
  return seen;
}

const sink = () =>
  new Writable({
    objectMode: true,
    write(_e: FilterEvent, _enc, done) {
      done();
    },
  });

describe('SqlFilterStream', () => {
  it("finishes once in pipeline() and emits the wanted tables' rows", async () => {
    const filter = new SqlFilterStream();
    const seen = watch(filter);
    const events: FilterEvent[] = [];
    await pipeline(
      Readable.from(chunks(sql)),
      filter,
      new Writable({
        objectMode: true,
        write(e: FilterEvent, _enc, done) {
          events.push(e);
          done();
        },
      }),
    );
    expect(seen).toEqual({ finish: 1, error: 0, close: 1 });
    expect(events.some((e) => e.type === 'rows' && e.table === 'tasktexts')).toBe(true);
    expect(filter.stats.sawDumpComplete).toBe(true);
  });

  it('errors once, and never finishes, on a dump cut inside a COPY row', async () => {
    const at = sql.indexOf('COPY public.tasktexts');
    const cut = sql.subarray(0, sql.indexOf('\n', at + 200) - 5);
    const filter = new SqlFilterStream();
    const seen = watch(filter);
    await expect(pipeline(Readable.from(chunks(cut)), filter, sink())).rejects.toThrow();
    expect(seen.error).toBe(1);
    expect(seen.finish).toBe(0);
  });

  it('destroy() in mid-flight closes it without finish, and later writes fail', async () => {
    const filter = new SqlFilterStream();
    const seen = watch(filter);
    filter.on('data', () => {});
    filter.write(sql.subarray(0, sql.length >> 1));
    filter.destroy();
    await new Promise((r) => filter.once('close', r));
    expect(filter.destroyed).toBe(true);
    expect(seen).toEqual({ finish: 0, error: 0, close: 1 });
    const late = await new Promise<Error | null | undefined>((r) => filter.write(Buffer.from('x'), (e) => r(e)));
    expect(late).toBeInstanceOf(Error);
  });
});

describe('Loader', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await startEngine({ kind: 'embedded', log: () => {} }, new Scope());
  });
  afterAll(() => engine?.stop());

  /** A connection on a schema of its own, as each backup of a session gets (session/many.ts). */
  let schemas = 0;
  const fresh = async (withTables = true): Promise<pg.Client> => {
    const client = await engine.connect(await engine.database());
    const schema = `test_${schemas++}`;
    await client.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
    if (withTables) await createScratchTables(client);
    return client;
  };

  it('finishes once in pipeline() with every row in the database', async () => {
    const client = await fresh();
    try {
      const loader = new Loader({ client });
      const seen = watch(loader);
      await pipeline(Readable.from(chunks(sql)), new SqlFilterStream(), loader);
      expect(seen).toEqual({ finish: 1, error: 0, close: 1 });
      const { rows } = await client.query('SELECT count(*)::int AS n FROM tasktexts');
      expect(rows[0].n).toBe(loader.result.tables.tasktexts.rows);
      expect(rows[0].n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('errors once, and never finishes, when the database refuses the rows', async () => {
    const client = await fresh(false); // no scratch tables: COPY fails
    try {
      const loader = new Loader({ client });
      const seen = watch(loader);
      await expect(pipeline(Readable.from(chunks(sql)), new SqlFilterStream(), loader)).rejects.toThrow();
      expect(seen.error).toBe(1);
      expect(seen.finish).toBe(0);
      // The connection is left usable: the failed COPY was ended, not left open.
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('destroy() in mid-flight ends the open COPY and releases the connection', async () => {
    const client = await fresh();
    try {
      const loader = new Loader({ client });
      const seen = watch(loader);
      const filter = new SqlFilterStream();
      let rows = 0;
      filter.on('data', (e: FilterEvent) => {
        loader.write(e);
        if (e.type === 'rows' && ++rows === 1) loader.destroy();
      });
      filter.write(sql);
      await new Promise((r) => loader.once('close', r));
      expect(seen).toEqual({ finish: 0, error: 0, close: 1 });
      // Nothing was committed by the aborted COPY, and the connection still answers.
      const { rows: counted } = await client.query('SELECT (SELECT count(*) FROM users)::int + (SELECT count(*) FROM tasks)::int + (SELECT count(*) FROM tasktexts)::int AS n');
      expect(counted[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });
});
