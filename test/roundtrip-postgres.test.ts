/**
 * The filter's round-trip property end to end: random race-server-like dumps
 * (any Unicode, backslashes, CR, tabs, `\.` lines, `\N`; COPY, INSERT and
 * E'' styles; CRLF) are written to a file and loaded by withBackup into the
 * embedded PostgreSQL; every student's texts come back exactly, in the
 * server's order. Fewer runs than the pure filter property: each starts a cluster.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { modelArb, optionsArb, writeDump, type DumpModel } from './dump-gen.js';
import { makeTmp, removeTmp } from './helpers.js';
import { Scope } from '../src/scope.js';

let work: string;
beforeAll(() => {
  work = makeTmp('roundtrip');
});
afterAll(() => removeTmp(work));

const config: SessionConfig = { engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: () => {} };

/** What the server's JSON export would hold for each user, computed from the model. */
function expectedExports(model: DumpModel): Map<string, { task_name: string; created_at: string | null; modified_at: string | null; is_enabled: boolean; text: string }[]> {
  const table = (name: string) => model.tables.find((t) => t.name === name)!.rows;
  const tasks = new Map(table('tasks').map((t) => [t.id, t]));
  const out = new Map<string, ReturnType<typeof expectedExports> extends Map<string, infer V> ? V : never>();
  for (const u of table('users')) {
    const mine = table(model.textsTable)
      .filter((x) => x.user_id === u.id)
      .map((x) => ({ x, t: tasks.get(x.task_id)! }))
      .sort((a, b) => Number(a.t.phase) - Number(b.t.phase) || Number(a.t.sort_position) - Number(b.t.sort_position) || Number(a.x.id) - Number(b.x.id));
    out.set(
      u.username!,
      mine.map(({ x, t }) => ({
        task_name: `${t.phase}-${t.name}`,
        // UTC values (or naive ones) in a UTC session: the first 16 characters, cut to the minute.
        created_at: x.created_at?.slice(0, 16) ?? null,
        modified_at: x.modified_at?.slice(0, 16) ?? null,
        is_enabled: t.is_enabled === 't',
        text: x.text!,
      })),
    );
  }
  return out;
}

describe('random dumps through a real PostgreSQL', () => {
  it('export every text exactly', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(modelArb, optionsArb, async (model, options) => {
        const file = join(work, `dump-${n++}.sql`);
        writeFileSync(file, Buffer.from(writeDump(model, options), 'latin1'));
        const want = expectedExports(model);
        await withBackup(file, config, async (b) => {
          for (const [username, texts] of want) {
            const user = await b.query.findUser(username);
            const got = (await b.query.texts(user)).map((t) => ({ task_name: t.task_name, created_at: t.created_at, modified_at: t.modified_at, is_enabled: t.is_enabled, text: t.text }));
            expect(got).toEqual(texts);
          }
        });
      }),
      { numRuns: 8 },
    );
  }, 180_000);
});
