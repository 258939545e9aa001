/**
 * The README's install recipes run as written through real npm: a clone of this repository
 * installed globally, and the tarball packed there installed elsewhere, each into a temporary
 * npm prefix; the command is then found on PATH from another folder and exports the demo.
 * npm uses its local cache first (--prefer-offline), so the test needs no registry when the
 * cache holds the dependencies (`npm install` here filled it). A clone takes HEAD: run this on a
 * clean checkout (as CI does) to test uncommitted changes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shellWord } from '../src/shell.js';
import { DEMO, FIXTURES, ROOT, expectNothingLeft, makeTmp, readmeSection, removeTmp, shBlocks } from './helpers.js';

const missing = ['git', 'npm'].filter((tool) => spawnSync(tool, ['--version']).status !== 0);
const { section } = readmeSection('### Installing it for use anywhere', '## What it is for');
const [cloneRecipe, tarballRecipe] = shBlocks(section);
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const expected = readFileSync(join(FIXTURES, 'demo', 'expected', 'alice.json'), 'utf8');

const tmp = makeTmp('global-install');
afterAll(() => removeTmp(tmp));

/** Run README lines as one shell script in `cwd`, npm installing globally into `prefix`; npm's stderr. */
function npmRecipe(lines: string[], cwd: string, prefix: string): string {
  const script = ['set -e', ...lines.map((l) => l.replace('<this repository>', shellWord(ROOT)))].join('\n');
  const r = spawnSync('sh', ['-c', script], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_prefix: prefix, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });
  if (r.status !== 0) throw new Error(`the README's recipe failed (exit ${r.status}):\n${script}\n${r.stderr}`);
  return r.stderr;
}

/** `recover-texts args` found on PATH in `prefix`/bin, run from a folder of its own with a private TMPDIR. */
function installed(prefix: string, args: string[]): string {
  const cwd = makeTmp('global-install-cwd');
  const scratch = makeTmp('global-install-tmp');
  try {
    const out = execFileSync('recover-texts', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, TMPDIR: scratch } });
    expect(readdirSync(cwd)).toEqual([]);
    expectNothingLeft(scratch);
    return out;
  } finally {
    removeTmp(cwd);
    removeTmp(scratch);
  }
}

function expectWorks(prefix: string): void {
  expect(installed(prefix, ['--version']).trim()).toBe(version);
  expect(installed(prefix, ['export', DEMO, '--user', 'alice'])).toBe(expected);
}

describe("the README's global install recipes", () => {
  it('are two: from a clone, and from a tarball packed in it', () => {
    expect(cloneRecipe?.[0]).toMatch(/^git clone <this repository> recover-texts && cd recover-texts$/);
    expect(tarballRecipe?.[0]).toBe('npm pack');
    expect(tarballRecipe?.[1]).toBe(`npm install -g --ignore-scripts ./recover-texts-${version}.tgz`);
  });

  it.skipIf(missing.length > 0)(
    `each installs a recover-texts command that works anywhere, with no install-script warning${missing.length ? ` (SKIPPED: no ${missing.join(', ')} on this machine)` : ''}`,
    () => {
      // From a clone: installed in it, linked into the prefix.
      const clonePrefix = join(tmp, 'prefix-clone');
      expect(npmRecipe(cloneRecipe!, tmp, clonePrefix)).not.toMatch(/install-scripts/);
      const clone = join(tmp, 'recover-texts');
      expect(lstatSync(join(clonePrefix, 'lib', 'node_modules', 'recover-texts')).isSymbolicLink()).toBe(true);
      expectWorks(clonePrefix);

      // The tarball packed in that clone, installed from another folder: a copy of its own, built.
      npmRecipe(tarballRecipe!.slice(0, 1), clone, clonePrefix);
      const elsewhere = join(tmp, 'elsewhere');
      mkdirSync(elsewhere);
      copyFileSync(join(clone, `recover-texts-${version}.tgz`), join(elsewhere, `recover-texts-${version}.tgz`));
      removeTmp(clone); // the tarball's install must not need the clone
      const tarPrefix = join(tmp, 'prefix-tarball');
      expect(npmRecipe(tarballRecipe!.slice(1), elsewhere, tarPrefix)).not.toMatch(/install-scripts/);
      expect(lstatSync(join(tarPrefix, 'lib', 'node_modules', 'recover-texts')).isDirectory()).toBe(true);
      expectWorks(tarPrefix);
    },
    360_000,
  );
});
