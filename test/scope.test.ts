/**
 * A run's Scope: what the run started is registered there and removed when it
 * ends, its signal says so, and nothing is shared between scopes. The engine
 * tells its scratch folder instead of leaving it in module state.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../src/engine/index.js';
import { Scope } from '../src/scope.js';

const resource = (label: string, log: string[], ms = 0) => ({
  label,
  dispose: async () => {
    if (ms) await new Promise((r) => setTimeout(r, ms));
    log.push(label);
  },
});

describe('Scope', () => {
  it('end() aborts its signal and disposes what is live, newest first, each once', async () => {
    const scope = new Scope();
    const log: string[] = [];
    scope.track(resource('cluster', log));
    const output = scope.track(resource('output', log));
    scope.track(resource('temp dir', log));
    scope.untrack(output);
    expect(scope.signal.aborted).toBe(false);
    expect(scope.liveCount).toBe(2);
    await scope.end();
    expect(scope.signal.aborted).toBe(true);
    expect(log).toEqual(['temp dir', 'cluster']);
    expect(scope.liveCount).toBe(0);
    await scope.end();
    expect(log).toEqual(['temp dir', 'cluster']);
  });

  it('end() also disposes what work still running registers while it ends, and reports a failing disposal without throwing', async () => {
    const scope = new Scope();
    const log: string[] = [];
    const notes: string[] = [];
    scope.track({
      label: 'first',
      dispose: async () => {
        log.push('first');
        scope.track(resource('late', log));
        throw new Error('busy');
      },
    });
    await scope.end((m) => notes.push(m));
    expect(log).toEqual(['first', 'late']);
    expect(notes).toEqual(['cleanup of first failed: busy']);
  });

  it('end() waits for a once() removal already under way elsewhere', async () => {
    const scope = new Scope();
    const log: string[] = [];
    const stop = scope.once(async () => {
      await new Promise((r) => setTimeout(r, 100));
      log.push('stopped');
    });
    void stop(); // its owner began to stop it; the signal comes meanwhile
    await scope.end();
    expect(log).toEqual(['stopped']);
    await stop();
    expect(log).toEqual(['stopped']);
  });

  it('two scopes share nothing: ending one leaves the other running', async () => {
    const a = new Scope();
    const b = new Scope();
    const log: string[] = [];
    a.track(resource('a', log));
    b.track(resource('b', log));
    await a.end();
    expect(log).toEqual(['a']);
    expect(b.signal.aborted).toBe(false);
    expect(b.liveCount).toBe(1);
    await b.end();
    expect(log).toEqual(['a', 'b']);
  });

  it('checkpoint() returns at once unless the scope was made to pause there', async () => {
    await expect(new Scope().checkpoint('loading')).resolves.toBeUndefined();
    await expect(new Scope({ pauseAt: 'writing' }).checkpoint('loading')).resolves.toBeUndefined();
  });
});

describe('the engine and the scope', () => {
  it.each([
    { over: 'its private socket', tcp: false },
    { over: '127.0.0.1 (RECOVER_TEXTS_TRANSPORT=tcp)', tcp: true },
  ])('an embedded engine over $over is registered with the run scope, tells its scratch folder, and is removed when the scope ends', async ({ tcp }) => {
    const scope = new Scope();
    const engine = await startEngine({ kind: 'embedded', tcp, log: () => {} }, scope);
    expect(scope.liveCount).toBe(1);
    expect(engine.scratch).toBeDefined();
    const { dir, inMemory } = engine.scratch!;
    expect(inMemory ? dir === '/dev/shm' : dir === tmpdir()).toBe(true);
    const client = await engine.connect(await engine.database());
    const dataDir = String((await client.query('SHOW data_directory')).rows[0].data_directory);
    await client.end();
    const clusterDir = dirname(dataDir);
    expect(clusterDir.startsWith(dir)).toBe(true);
    expect(engine.description).toContain(clusterDir);
    expect(String(engine.clientConfig('postgres').host)).toBe(tcp ? '127.0.0.1' : join(clusterDir, 'socket'));
    expect(existsSync(dataDir)).toBe(true);
    await scope.end();
    expect(scope.liveCount).toBe(0);
    expect(existsSync(clusterDir)).toBe(false);
  });

  it('a --database-url engine has no scratch folder: its disk is not ours to measure', async () => {
    const scope = new Scope();
    const server = await startEngine({ kind: 'embedded', log: () => {} }, scope);
    const c = server.clientConfig('postgres');
    const url = `postgresql://${c.user}@localhost/postgres?host=${encodeURIComponent(String(c.host))}`;
    const other = new Scope();
    const engine = await startEngine({ kind: 'url', databaseUrl: url, log: () => {} }, other);
    expect(engine.scratch).toBeUndefined();
    await other.end();
    await scope.end();
  });
});
