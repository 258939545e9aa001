/**
 * Interruption and concurrency. SIGINT or SIGTERM at any stage leaves no
 * server, temp dir or partial output, and exits 130/143; after kill -9 the
 * next run removes what the killed run left (and nothing else).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FIXTURES, leftovers, makeTmp, processesMentioning, removeTmp, runCli, startPaused } from './helpers.js';

let tmp: string;
let out: string;
beforeAll(() => {
  tmp = makeTmp('intr-tmp');
  out = makeTmp('intr-out');
});
afterAll(() => {
  removeTmp(tmp);
  removeTmp(out);
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Wait briefly for processes to go: a killed postgres takes a moment to exit. */
async function settle(text: string): Promise<number[]> {
  for (let k = 0; k < 50 && processesMentioning(text).length; k++) await new Promise((r) => setTimeout(r, 100));
  return processesMentioning(text);
}

describe('interrupted runs', () => {
  const stages = ['engine-started', 'loading', 'querying', 'writing'];
  for (const stage of stages) {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      it(`${signal} while ${stage}: exit ${code}, no server, no temp dir, no partial output`, async () => {
        const target = join(out, `${stage}-${signal}.json`);
        const child = await startPaused(['export', DEMO, '-u', 'alice', '--out', target], stage, { env: { TMPDIR: tmp } });
        expect(readdirSync(tmp).length).toBeGreaterThan(0); // something is live while paused
        const done = exitOf(child);
        child.kill(signal);
        expect((await done).code).toBe(code);
        expect(await settle(tmp)).toEqual([]);
        expect(leftovers(tmp)).toEqual([]);
        expect(readdirSync(out).filter((n) => n.startsWith(`${stage}-${signal}`) || n.includes('.partial'))).toEqual([]);
      });
    }
  }

  it('SIGINT while loading, the server on 127.0.0.1 (RECOVER_TEXTS_TRANSPORT=tcp, as on Windows): exit 130, no server, no temp dir, no partial output', async () => {
    const target = join(out, 'tcp-SIGINT.json');
    const child = await startPaused(['export', DEMO, '-u', 'alice', '--out', target], 'loading', { env: { TMPDIR: tmp, RECOVER_TEXTS_TRANSPORT: 'tcp' } });
    expect(processesMentioning('listen_addresses=127.0.0.1').some((pid) => processesMentioning(tmp).includes(pid))).toBe(true);
    const done = exitOf(child);
    child.kill('SIGINT');
    expect((await done).code).toBe(130);
    expect(await settle(tmp)).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
    expect(readdirSync(out).filter((n) => n.startsWith('tcp-SIGINT'))).toEqual([]);
  });

  it('after kill -9, the next run removes the stale cluster, and only stale ones of its own', async () => {
    const own = makeTmp('intr-k9');
    try {
      // Not ours (no marker), and ours but still in use (its process is alive): both must stay.
      mkdirSync(join(own, 'recover-texts-decoy'));
      mkdirSync(join(own, 'recover-texts-live'));
      writeFileSync(join(own, 'recover-texts-live', 'recover-texts.json'), JSON.stringify({ pid: process.pid }));
      const child = await startPaused(['export', DEMO, '-u', 'alice'], 'loading', { env: { TMPDIR: own } });
      const done = exitOf(child);
      child.kill('SIGKILL');
      await done;
      const stale = leftovers(own).filter((n) => !['recover-texts-decoy', 'recover-texts-live'].includes(n));
      expect(stale).toHaveLength(1);
      expect(processesMentioning(join(own, stale[0]!)).length).toBeGreaterThan(0); // its server still runs

      const next = await runCli(['export', DEMO, '-u', 'alice'], { tmp: own });
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(/removed a throwaway cluster left by an interrupted run/);
      expect(await settle(own)).toEqual([]);
      expect(leftovers(own).sort()).toEqual(['recover-texts-decoy', 'recover-texts-live']);
    } finally {
      removeTmp(own);
    }
  });
});

describe('concurrent runs', () => {
  it('four runs at once, on the same and different backups, all succeed without colliding', async () => {
    const current = join(FIXTURES, 'generated', 'current', 'plain.sql.gz');
    const jobs = [
      runCli(['export', DEMO, '-u', 'alice', '--out', join(out, 'c1.json')], { tmp }),
      runCli(['export', DEMO, '-u', 'alice', '--out', join(out, 'c2.json')], { tmp }),
      runCli(['export', current, '-u', 'bob', '--out', join(out, 'c3.json')], { tmp }),
      runCli(['export', current, '-u', 'eve', '--format', 'files', '--out', join(out, 'c4')], { tmp }),
    ];
    const results = await Promise.all(jobs);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const alice = readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8');
    expect(readFileSync(join(out, 'c1.json'), 'utf8')).toBe(alice);
    expect(readFileSync(join(out, 'c2.json'), 'utf8')).toBe(alice);
    expect(readFileSync(join(out, 'c3.json'), 'utf8')).toBe(readFileSync(join(FIXTURES, 'generated', 'current', 'expected', 'bob.json'), 'utf8'));
    expect(existsSync(join(out, 'c4', 'index.json'))).toBe(true);
    expect(leftovers(tmp)).toEqual([]);
  });
});
