/**
 * A backup is untrusted input. The hostile fixture holds statements that
 * would leave traces if anything executed them: COPY ... TO PROGRAM, \!,
 * CREATE ROLE / EXTENSION / FUNCTION, ALTER SYSTEM, DO blocks, a booby-trapped
 * table using a wanted table's name prefix, and a DROP TABLE of a wanted
 * table after its data. The export must be right and no trace may exist.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../src/export/index.js';
import { withBackup } from '../src/session/index.js';
import { FIXTURES } from './helpers.js';
import { Scope } from '../src/scope.js';

const GENERATED = join(FIXTURES, 'generated');
const manifest = JSON.parse(readFileSync(join(GENERATED, 'manifest.json'), 'utf8'));
const hostile = manifest.databases.find((d: { name: string }) => d.name === 'hostile');
const traces = hostile.hostile as { files: string[]; roles: string[]; extensions: string[]; tables: string[]; functions: string[]; systemSettings: string[] };

describe('a hostile backup', () => {
  it('exports correctly and nothing in it ever runs', async () => {
    for (const f of traces.files) rmSync(f, { force: true });
    await withBackup(join(GENERATED, 'hostile', 'plain.sql'), { engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: () => {} }, async (b) => {
      // The export is the same as from the clean dump of the same database.
      for (const s of hostile.students as { username: string }[]) {
        const texts = await b.query.texts(await b.query.findUser(s.username));
        expect(renderJson(texts)).toBe(readFileSync(join(GENERATED, 'hostile', 'expected', `${s.username}.json`), 'utf8'));
      }
      // Look inside the scratch server before it is removed.
      const c = new pg.Client(b.engine.clientConfig(b.database));
      await c.connect();
      try {
        const one = async (sql: string, params: unknown[] = []) => (await c.query(sql, params)).rows;
        expect(await one('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [traces.roles])).toEqual([]);
        expect(await one('SELECT extname FROM pg_extension WHERE extname = ANY($1)', [traces.extensions])).toEqual([]);
        expect(await one('SELECT relname FROM pg_class WHERE relname = ANY($1)', [traces.tables])).toEqual([]);
        expect(await one('SELECT proname FROM pg_proc WHERE proname = ANY($1)', [traces.functions])).toEqual([]);
        expect(await one("SELECT name FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = ANY($1)", [traces.systemSettings])).toEqual([]);
        // Only the tables recovery creates exist, and the dropped one is still there.
        const tables = (await one("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1")).map((r) => r.relname);
        expect(tables).toEqual(['alembic_version', 'notes', 'settings', 'tasks', 'tasktexts', 'users']);
        expect(Number((await one('SELECT count(*) AS n FROM tasktexts'))[0].n)).toBeGreaterThan(0);
      } finally {
        await c.end();
      }
    });
    for (const f of traces.files) expect(existsSync(f), `${f} was created`).toBe(false);
  });

  it('says what it skipped without running it', async () => {
    await withBackup(join(GENERATED, 'hostile', 'plain.sql'), { engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: () => {} }, async (b) => {
      expect(b.stats.metaCommands).toBeGreaterThanOrEqual(3); // \restrict, \!, \unrestrict
      expect(b.stats.statementsSkipped).toBeGreaterThan(50);
    });
  });
});
