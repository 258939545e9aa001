/**
 * The main job against every fixture: for every student in every database
 * (both schema generations), in every dump style and format, the export
 * equals the generator's expected JSON byte for byte; and the nasty texts
 * survive exactly in csv and files too.
 */
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { renderCsv, renderJson, writeExport } from '../src/export/index.js';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { FIXTURES } from './helpers.js';
import { Scope } from '../src/scope.js';

interface Dump {
  file: string;
  format: string;
  style: string;
  dataOnly: boolean;
  lineEnding: string;
}
interface Db {
  name: string;
  dumps: Dump[];
  students: { username: string; textCount: number }[];
  expectedTimeZones: string[];
  hostile?: unknown;
}

const GENERATED = join(FIXTURES, 'generated');
const manifest = JSON.parse(readFileSync(join(GENERATED, 'manifest.json'), 'utf8')) as { databases: Db[] };

export const config = (timezone = 'UTC'): SessionConfig => ({ engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone, log: () => {} });

function expected(db: string, username: string, zone?: string): string {
  const dir = zone ? join(GENERATED, db, 'expected', 'tz', zone.replace('/', '_')) : join(GENERATED, db, 'expected');
  return readFileSync(join(dir, `${username}.json`), 'utf8');
}

for (const db of manifest.databases.filter((d) => !d.hostile)) {
  describe(`fixture database "${db.name}"`, () => {
    for (const dump of db.dumps) {
      const path = join(GENERATED, db.name, dump.file);
      const label = `${dump.file} (${dump.format}, ${dump.style}${dump.dataOnly ? ', data only' : ''}, ${dump.lineEnding})`;
      it(`${label}: every student's export equals the expected JSON`, async () => {
        // Archives of every version are read natively: no pg_restore is needed, so none is skipped.
        await withBackup(path, config(), async (b) => {
          for (const s of db.students) {
            const user = await b.query.findUser(s.username);
            expect(user.username).toBe(s.username);
            const texts = await b.query.texts(user);
            expect(texts).toHaveLength(s.textCount);
            expect(renderJson(texts), `${db.name}/${s.username}`).toBe(expected(db.name, s.username));
          }
        });
      });
    }

    const plain = db.dumps.find((d) => d.file === 'plain.sql') ?? db.dumps[0]!;
    for (const zone of db.expectedTimeZones ?? []) {
      it(`--timezone ${zone}: timestamps in that zone`, async () => {
        await withBackup(join(GENERATED, db.name, plain.file), config(zone), async (b) => {
          for (const s of db.students) {
            expect(renderJson(await b.query.texts(await b.query.findUser(s.username)))).toBe(expected(db.name, s.username, zone));
          }
        });
      });
    }

    it('csv and files keep every text byte for byte', async () => {
      const out = mkdtempSync(join(tmpdir(), 'rt-files-'));
      try {
        await withBackup(join(GENERATED, db.name, plain.file), config(), async (b) => {
          for (const s of db.students) {
            const texts = await b.query.texts(await b.query.findUser(s.username));
            const want = JSON.parse(expected(db.name, s.username)) as { task_name: string; text: string; created_at: string | null }[];
            const rows = parse(renderCsv(texts), { columns: true, relax_quotes: false }) as Record<string, string>[];
            expect(rows.map((r) => r.text)).toEqual(want.map((w) => w.text));
            expect(rows.map((r) => r.task_name)).toEqual(want.map((w) => w.task_name));
            expect(rows.map((r) => r.created_at || null)).toEqual(want.map((w) => w.created_at));

            const dir = join(out, s.username);
            await writeExport('files', texts, dir, { backup: 'x', backupFormat: 'plain', backupDate: null, backupDateSource: 'test', username: s.username, timezone: 'UTC' }, { force: false, scope: new Scope() });
            const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { texts: { file: string }[] };
            expect(index.texts.map((t) => readFileSync(join(dir, t.file), 'utf8'))).toEqual(want.map((w) => w.text));
            expect(readdirSync(dir).sort()).toEqual(['INDEX.md', 'index.json', ...index.texts.map((t) => t.file)].sort());
          }
        });
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  });
}

describe('the README demo backup', () => {
  it('gives every demo student the expected JSON', async () => {
    const dir = join(FIXTURES, 'demo', 'expected');
    await withBackup(join(FIXTURES, 'demo', 'buggy_race_bk_20260315.sql.gz'), config(), async (b) => {
      expect(b.date).toEqual({ value: '2026-03-15', source: 'file name' });
      for (const f of readdirSync(dir)) {
        const texts = await b.query.texts(await b.query.findUser(f.replace(/\.json$/, '')));
        expect(renderJson(texts)).toBe(readFileSync(join(dir, f), 'utf8'));
      }
    });
  });
  it('exists', () => expect(existsSync(join(FIXTURES, 'demo', 'buggy_race_bk_20260315.sql.gz'))).toBe(true));
});
