/**
 * The commands over backups in S3, through the built command, against a real S3-compatible store
 * (s3rver on 127.0.0.1) holding the story's nightly backups under a prefix: `history` over
 * s3://bucket/nightly/ prints exactly what it prints over the same files on disk, an export of one
 * object exactly the file's export (also when the connection drops mid-body), merge takes --current from S3; a missing key, refused keys or
 * no keys at all are one clean line each, and no credential is ever printed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasServer } from '../src/engine/index.js';
import { postgresBinDirs } from '../src/pg-install.js';
import { cuttingProxy } from './cutting-proxy.js';
import { CLI, expectCleanError, expectNothingLeft, makeTmp, removeTmp, runCli } from './helpers.js';
import { nightPaths } from './story-helpers.js';
import { S3_BUCKET, startStore, type TestStore } from './s3-store.js';

let store: TestStore;
let tmp: string;
const NIGHTLY = `s3://${S3_BUCKET}/nightly/`;
const dump = nightPaths.find((p) => p.endsWith('.dump'))!;
const gz = nightPaths.at(-1)!;

beforeAll(async () => {
  tmp = makeTmp('s3-cli');
  store = await startStore();
  for (const p of nightPaths) await store.putFile(`nightly/${basename(p)}`, p);
}, 120_000);

afterAll(async () => {
  await store?.stop();
  removeTmp(tmp);
});

/** The command over S3, the store named by --endpoint-url, its keys in the environment. */
const inS3 = (args: string[], env: NodeJS.ProcessEnv = store.env) => runCli([...args, '--endpoint-url', store.endpoint], { tmp, env });

describe('backups in S3, as on disk', () => {
  it('history over s3://bucket/nightly/ prints exactly what history over the same files prints', async () => {
    const [onDisk, fromS3] = await Promise.all([runCli(['history', '--user', 'alice', ...nightPaths], { tmp }), inS3(['history', '--user', 'alice', NIGHTLY])]);
    expect(onDisk.code, onDisk.stderr).toBe(0);
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(fromS3.stdout).toBe(onDisk.stdout);
    expect(fromS3.stdout).toContain('LOST on 2026-03-11');
    // The restore steps name the S3 folder (no cd into it), with the endpoint the merge needs.
    const merge = /recover-texts merge .*/.exec(fromS3.stderr)?.[0] ?? '';
    expect(merge).toContain(`--current ${NIGHTLY}${basename(gz)} --auto`);
    expect(merge).toContain(`--endpoint-url ${store.endpoint} ${NIGHTLY} --out`);
    expect(fromS3.stderr).not.toMatch(/^\s*1\. cd /m);
    // The text of a task deleted since is copied by hand, from the store it is in.
    expect(fromS3.stderr).toMatch(new RegExp(`copy it by hand: recover-texts export ${NIGHTLY}\\S+ --user alice --endpoint-url ${store.endpoint} --format files --out DIR`));
    expectNothingLeft(tmp);
  });

  it('scan over s3://bucket/nightly/ finds the losses it finds in the files', async () => {
    const [onDisk, fromS3] = await Promise.all([runCli(['scan', ...nightPaths], { tmp }), inS3(['scan', NIGHTLY])]);
    expect(onDisk.code, onDisk.stderr).toBe(0);
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(fromS3.stdout).toBe(onDisk.stdout);
    expect(fromS3.stdout).toContain('alice');
  });

  it('export of one object equals the export of its file: a custom archive (read by ranges) and a .sql.gz', async () => {
    for (const p of [dump, gz]) {
      const [onDisk, fromS3] = await Promise.all([runCli(['export', p, '--user', 'alice'], { tmp }), inS3(['export', `${NIGHTLY}${basename(p)}`, '--user', 'alice'])]);
      expect(onDisk.code, onDisk.stderr).toBe(0);
      expect(fromS3.code, fromS3.stderr).toBe(0);
      expect(fromS3.stdout).toBe(onDisk.stdout);
      expect(JSON.parse(fromS3.stdout).length).toBeGreaterThan(0);
    }
    expectNothingLeft(tmp);
  });

  it('an export of an older object names the newer objects beside it, as for a file, and history over its prefix with the store it is in', async () => {
    const older = nightPaths.find((p) => basename(p) === 'buggy_race_bk_20260310.sql.gz')!;
    const [onDisk, fromS3] = await Promise.all([runCli(['export', older, '--user', 'alice'], { tmp }), inS3(['export', `${NIGHTLY}${basename(older)}`, '--user', 'alice'])]);
    expect(onDisk.code, onDisk.stderr).toBe(0);
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(fromS3.stdout).toBe(onDisk.stdout);
    const advice = (r: { stderr: string }) => /^(\d+) newer backups? (?:is|are) beside it \(the newest (\S+), ([^)]+)\); to restore only what was lost and keep later edits: (.*), then recover-texts merge$/m.exec(r.stderr);
    const [disk, s3] = [advice(onDisk), advice(fromS3)];
    expect(disk, onDisk.stderr).not.toBeNull();
    expect(s3, fromS3.stderr).not.toBeNull();
    // The same newer backups (3: the 11th, the 12th's archive and the 13th), by the same newest.
    expect(s3!.slice(1, 4)).toEqual(disk!.slice(1, 4));
    expect(s3![1]).toBe('3');
    expect(s3![4]).toBe(`recover-texts history --user alice ${NIGHTLY} --endpoint-url ${store.endpoint}`);
  });

  it('a .sql.gz streamed through a connection that drops mid-body: taken up where it stopped, the same export, said under --debug', async () => {
    // A night's backup, then 3 MB of a comment (a second gzip member): detection reads its first MiB by range, so the cut falls in the streamed read.
    const noise = Array.from({ length: 30_000 }, () => `-- ${randomBytes(75).toString('base64')}`).join('\n');
    const big = join(tmp, 'buggy_race_bk_20260320.sql.gz');
    writeFileSync(big, Buffer.concat([readFileSync(gz), gzipSync(`${noise}\n`)]));
    await store.putFile(`drops/${basename(big)}`, big);
    const proxy = await cuttingProxy(Number(new URL(store.endpoint).port), 1_500_000);
    try {
      const [onDisk, fromS3] = await Promise.all([
        runCli(['export', big, '--user', 'alice'], { tmp }),
        runCli(['export', `s3://${S3_BUCKET}/drops/${basename(big)}`, '--user', 'alice', '--debug', '--endpoint-url', `http://127.0.0.1:${proxy.port}`], { tmp, env: store.env }),
      ]);
      expect(onDisk.code, onDisk.stderr).toBe(0);
      expect(fromS3.code, fromS3.stderr).toBe(0);
      expect(proxy.cuts()).toBe(1);
      expect(fromS3.stdout).toBe(onDisk.stdout);
      expect(JSON.parse(fromS3.stdout).length).toBeGreaterThan(0);
      expect(fromS3.stderr).toMatch(new RegExp(`s3://${S3_BUCKET}/drops/${basename(big)}: the connection dropped at byte \\d+; trying again in \\d+ ms`));
    } finally {
      await proxy.close();
      removeTmp(big);
    }
    expectNothingLeft(tmp);
  });

  it('the endpoint may come from AWS_ENDPOINT_URL instead; inspect and users read an object too', async () => {
    const env = { ...store.env, AWS_ENDPOINT_URL: store.endpoint };
    const inspect = await runCli(['inspect', `${NIGHTLY}${basename(dump)}`, '--json'], { tmp, env });
    expect(inspect.code, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout) as { backup: string; format: string; size: number };
    expect(info).toMatchObject({ backup: `${NIGHTLY}${basename(dump)}`, format: 'custom', size: readFileSync(dump).length });
    const users = await runCli(['users', NIGHTLY], { tmp, env });
    expect(users.code, users.stderr).toBe(0);
    expect(users.stdout).toContain('alice');
    // A folder given where one backup is taken: its newest, said on stderr.
    expect(users.stderr).toContain(`using ${NIGHTLY}${basename(gz)}`);
  });

  it('merge takes --current from S3 and writes what it writes from the files', async () => {
    const out = (name: string) => join(tmp, `${name}.json`);
    const onDisk = await runCli(['merge', '--user', 'alice', '--current', gz, '--auto', ...nightPaths, '--out', out('disk')], { tmp });
    const fromS3 = await inS3(['merge', '--user', 'alice', '--current', `${NIGHTLY}${basename(gz)}`, '--auto', NIGHTLY, '--out', out('s3')]);
    expect(onDisk.code, onDisk.stderr).toBe(0);
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(readFileSync(out('s3'), 'utf8')).toBe(readFileSync(out('disk'), 'utf8'));
    expect(fromS3.stderr).toContain(`--user alice --endpoint-url ${store.endpoint} --format files --out DIR`);
    removeTmp(out('s3'));
    removeTmp(out('disk'));
  });
});

describe('when S3 says no: one clean line with a hint, and no credential printed', () => {
  const secret = 'wJalrXUtnFEMI-never-printed';
  const keyId = 'AKIAIOSFODNN7NOTKNOWN';

  it('a missing key', async () => {
    const r = await inS3(['export', `${NIGHTLY}buggy_race_bk_20260399.sql.gz`, '--user', 'alice']);
    expect(r.code).toBe(5);
    const { message, hint } = expectCleanError(r);
    expect(message).toBe(`recover-texts: cannot read backup ${NIGHTLY}buggy_race_bk_20260399.sql.gz: no such object in the bucket ${S3_BUCKET} at ${store.endpoint}`);
    expect(hint).toContain('aws s3 ls');
    expect(r.stdout).toBe('');
  });

  it('a missing bucket', async () => {
    const r = await inS3(['history', '--user', 'alice', 's3://no-such-bucket/nightly/']);
    expect(r.code).toBe(5);
    expect(expectCleanError(r).message).toBe(`recover-texts: cannot list s3://no-such-bucket/nightly/: there is no bucket no-such-bucket at ${store.endpoint}`);
  });

  it('keys the store refuses', async () => {
    const r = await inS3(['history', '--user', 'alice', NIGHTLY], { ...store.env, AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret });
    expect(r.code).toBe(3);
    const { message, hint } = expectCleanError(r);
    expect(message).toBe(`recover-texts: cannot list ${NIGHTLY}: access denied (InvalidAccessKeyId)`);
    expect(hint).toContain('AWS_PROFILE');
    // Not even with --debug, which shows S3's whole answer.
    const debug = await inS3(['export', `${NIGHTLY}${basename(gz)}`, '--user', 'alice', '--debug'], { ...store.env, AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret });
    expect(debug.code).toBe(3);
    for (const o of [r.stdout, r.stderr, debug.stdout, debug.stderr]) expect(o).not.toContain(secret);
    expect(r.stderr).not.toContain(keyId);
  });

  it('no credentials at all', async () => {
    const env = { ...store.env };
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const r = await inS3(['history', '--user', 'alice', NIGHTLY], env);
    expect(r.code).toBe(2);
    const { message, hint } = expectCleanError(r);
    expect(message).toBe(`recover-texts: cannot list ${NIGHTLY}: no AWS credentials found`);
    expect(hint).toContain('AWS_ACCESS_KEY_ID');
  });

  it('a bad --endpoint-url or s3:// argument is a usage error, before anything is read', async () => {
    const bad = await runCli(['export', `${NIGHTLY}${basename(gz)}`, '--user', 'alice', '--endpoint-url', 'minio:9000'], { tmp, env: store.env });
    expect(bad.code).toBe(2);
    expect(expectCleanError(bad).message).toBe('recover-texts: --endpoint-url (or AWS_ENDPOINT_URL) is not an http(s) URL of an S3-compatible store');
    const url = await inS3(['export', 's3:///nightly/x.sql.gz', '--user', 'alice']);
    expect(url.code).toBe(2);
    expect(expectCleanError(url).hint).toContain('s3://BUCKET/KEY');
    // An AWS_ENDPOINT_URL meant for other tools does not stop a run over files.
    const local = await runCli(['export', gz, '--user', 'alice'], { tmp, env: { AWS_ENDPOINT_URL: 'not a url' } });
    expect(local.code, local.stderr).toBe(0);
  });
});

describe('the AWS SDK is loaded only for an s3:// argument', () => {
  // The command alone, away from its node_modules: the SDK (left out of the bundle) cannot be found there.
  const alone = (args: string[], env?: NodeJS.ProcessEnv) => {
    const dir = join(tmp, 'alone');
    mkdirSync(dir, { recursive: true });
    copyFileSync(CLI, join(dir, 'main.js'));
    const r = spawnSync(process.execPath, [join(dir, 'main.js'), ...args], { cwd: tmp, env: { ...process.env, TMPDIR: tmp, ...env }, encoding: 'utf8' });
    removeTmp(dir);
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };

  it.skipIf(!postgresBinDirs().some(hasServer))('a run over files never looks for it (skipped without an installed PostgreSQL: the embedded one is found through node_modules)', async () => {
    const r = alone(['export', gz, '--user', 'alice', '--engine', 'system']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).length).toBeGreaterThan(0);
  });

  it('without it, an s3:// argument is one clean line saying what to install', async () => {
    const r = alone(['export', `${NIGHTLY}${basename(gz)}`, '--user', 'alice', '--endpoint-url', store.endpoint], store.env);
    expect(r.code).toBe(9);
    const { message, hint } = expectCleanError(r);
    expect(message).toContain('needs the AWS SDK (@aws-sdk/client-s3)');
    expect(hint).toContain('npm install');
  });
});
