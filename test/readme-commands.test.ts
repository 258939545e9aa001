/**
 * The README's Commands examples, run as written (in a scratch folder where
 * `fixtures/` is this repo's): each succeeds and writes what it says.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, readmeSection } from './helpers.js';

const readme = readmeSection('## Commands', '## Restoring only what was lost');
const { commands, run, dirs } = readme;
beforeAll(() => readme.setup('readme-cmd'));
afterAll(() => readme.cleanup());

describe("the README's Commands examples", () => {
  it('are there, one per command', () => {
    expect(commands.length).toBeGreaterThanOrEqual(6);
    expect(commands.every((c) => c.startsWith('npx recover-texts '))).toBe(true);
  });

  it('each runs as written and gives what it promises', () => {
    const outputs = commands.map(run);
    const [users, , csv, , inspect] = outputs;
    const { cwd, tmp } = dirs;
    expect(users).toMatch(/^USERNAME\s+NAME/);
    expect(users).toMatch(/^alice\s/m);
    const demoAlice = readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8');
    expect(readFileSync(join(cwd, 'alice.json'), 'utf8')).toBe(demoAlice);
    const rows = parse(csv!, { columns: true }) as { task_name: string }[];
    expect(rows.map((r) => r.task_name)).toEqual(['0-CHANGE', '3-REPORT']);
    expect(existsSync(join(cwd, 'alice-texts', 'INDEX.md'))).toBe(true);
    expect(JSON.parse(inspect!).format).toBe('custom');
    expect(readdirSync(join(cwd, 'all-texts'))).toContain('index.json');
    // A folder of backups (its README, expected/ and live/ are skipped), --search, a real name, --before.
    const [search, history] = outputs.slice(6);
    expect(search!.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['benjamin']);
    expect(history).toMatch(/^alice \(user id 2\): 4 backups, 2026-03-10 to 2026-03-13/);
    expect(readFileSync(join(cwd, 'alice-0310.json'), 'utf8')).toBe(readFileSync(join(FIXTURES, 'story', 'expected', '2026-03-10', 'alice.json'), 'utf8'));
    expect(readdirSync(tmp)).toEqual([]);
  });
});
