/**
 * history, merge and scan interrupted while many backups are loading, being
 * queried, or the report is being written: exit 130/143, and no server,
 * temp dir, pg_restore or partial output is left.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, makeTmp, processesMentioning, removeTmp, startPaused } from './helpers.js';
import { nightPaths } from './story-helpers.js';

let tmp: string;
let out: string;
beforeAll(() => {
  tmp = makeTmp('hintr-tmp');
  out = makeTmp('hintr-out');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(out);
});

async function settle(text: string): Promise<number[]> {
  for (let k = 0; k < 50 && processesMentioning(text).length; k++) await new Promise((r) => setTimeout(r, 100));
  return processesMentioning(text);
}

describe('interrupted history, merge and scan', () => {
  const runs: [string, string, NodeJS.Signals, number, (target: string) => string[]][] = [
    ['history', 'loading', 'SIGINT', 130, (t) => ['history', '-u', 'alice', '--html', t, ...nightPaths]],
    ['history', 'querying', 'SIGTERM', 143, (t) => ['history', '-u', 'alice', '--html', t, ...nightPaths]],
    ['history', 'writing', 'SIGINT', 130, (t) => ['history', '-u', 'alice', '--html', t, ...nightPaths]],
    ['merge', 'loading', 'SIGTERM', 143, (t) => ['merge', '-u', 'alice', '--current', nightPaths.at(-1)!, '--auto', '-o', t, ...nightPaths]],
    ['merge', 'writing', 'SIGINT', 130, (t) => ['merge', '-u', 'alice', '--current', nightPaths.at(-1)!, '--auto', '-o', t, ...nightPaths]],
    // scan queries each backup as the next ones load, and drops it once the next is read.
    ['scan', 'loading', 'SIGINT', 130, (t) => ['scan', '--html', t, ...nightPaths]],
    ['scan', 'querying', 'SIGTERM', 143, (t) => ['scan', '--html', t, ...nightPaths]],
    ['scan', 'writing', 'SIGINT', 130, (t) => ['scan', '--html', t, ...nightPaths]],
  ];
  for (const [command, stage, signal, code, args] of runs) {
    it(`${command}: ${signal} while ${stage}: exit ${code}, nothing left`, async () => {
      const target = join(out, `${command}-${stage}.out`);
      const child = await startPaused(args(target), stage, { env: { TMPDIR: tmp } });
      expect(readdirSync(tmp).length).toBeGreaterThan(0);
      const done = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill(signal);
      expect(await done).toBe(code);
      expect(await settle(tmp)).toEqual([]);
      expect(leftovers(tmp).map((d) => `${d}: ${readdirSync(join(tmp, d)).join(' ')}`)).toEqual([]);
      expect(readdirSync(out)).toEqual([]);
    });
  }
});
