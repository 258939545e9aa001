/**
 * Shared test helpers: run the built CLI as a user would, in a private
 * TMPDIR so that anything it leaves behind is easy to see.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, chmodSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const FIXTURES = join(ROOT, 'fixtures');
export const DEMO = join(FIXTURES, 'demo', 'buggy_race_bk_20260315.sql.gz');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `recover-texts args...` with TMPDIR set to `tmp` (a fresh one if not given). `under` is a
 * command to run it with (its arguments then node's), which must exec node in its own process.
 */
export function runCli(args: string[], opts: { tmp?: string; env?: NodeJS.ProcessEnv; cwd?: string; under?: string[]; timeoutMs?: number } = {}): Promise<CliResult> {
  const [command, ...before] = [...(opts.under ?? []), process.execPath];
  return new Promise((resolvePromise) => {
    execFile(
      command!,
      [...before, CLI, ...args],
      { cwd: opts.cwd ?? ROOT, env: { ...process.env, TMPDIR: opts.tmp ?? process.env.TMPDIR, ...opts.env }, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', timeout: opts.timeoutMs ?? 0 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** `n` bytes no two 4-byte places of which share their value: a byte read twice, skipped or misplaced shows. */
export function distinctBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let k = 0; k + 4 <= n; k += 4) b.writeUInt32LE((k * 2654435761) >>> 0, k);
  return b;
}

/** A temp dir the unprivileged server user can pass through (as root, the cluster runs as another user). */
export function makeTmp(label = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `rt-${label}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeTmp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** What is left in a dir. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir);
}

/**
 * PIDs of running processes whose command line mentions `text`: from /proc on Linux, else
 * from ps (macOS, the BSDs) or, on Windows, from PowerShell's list of processes.
 */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const [pid, command] of commandLines()) {
    if (pid !== process.pid && command.includes(text)) pids.push(pid);
  }
  return pids;
}

function commandLines(): [number, string][] {
  if (existsSync('/proc/self/cmdline')) {
    const lines: [number, string][] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        lines.push([Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8')]);
      } catch {
        /* gone */
      }
    }
    return lines;
  }
  const listed =
    process.platform === 'win32'
      ? execFileSync('powershell.exe', ['-NoProfile', '-Command', 'Get-CimInstance Win32_Process | ForEach-Object { "$($_.ProcessId) $($_.CommandLine)" }'], { encoding: 'utf8' })
      : execFileSync('ps', ['-A', '-ww', '-o', 'pid=,command='], { encoding: 'utf8' });
  return listed.split(/\r?\n/).flatMap((line) => {
    const m = /^\s*(\d+) ?(.*)$/.exec(line);
    return m ? [[Number(m[1]), m[2]!] as [number, string]] : [];
  });
}

/** The error contract: one message line, one hint line, no stack trace. */
export function expectCleanError(r: CliResult): { message: string; hint: string } {
  const lines = r.stderr.trimEnd().split('\n');
  const message = lines.find((l) => l.startsWith('recover-texts: ')) ?? '';
  const hint = lines.find((l) => l.startsWith('  hint: ')) ?? '';
  if (!message || !hint) throw new Error(`expected "recover-texts: ..." and "  hint: ..." on stderr, got:\n${r.stderr}`);
  if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) throw new Error(`stack trace on stderr without --debug:\n${r.stderr}`);
  return { message, hint };
}

/**
 * Start `recover-texts args...` paused at checkpoint `stage`
 * (RECOVER_TEXTS_PAUSE_AT); resolves once it says so. `env` adds to the
 * environment (an undefined value removes that variable); `under` as for runCli.
 */
export function startPaused(args: string[], stage: string, opts: { env?: NodeJS.ProcessEnv; cli?: string; under?: string[] } = {}): Promise<ChildProcess> {
  const [command, ...before] = [...(opts.under ?? []), process.execPath];
  const child = spawn(command!, [...before, opts.cli ?? CLI, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env, RECOVER_TEXTS_PAUSE_AT: stage }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      if (err.includes(`paused at ${stage}`)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before pausing at ${stage}: ${err}`)));
  });
}

/**
 * A witness that no engine started: a temp dir in `tmp` as a run killed with -9 leaves it (the
 * tool's prefix and marker, naming a process that cannot exist). Starting a throwaway cluster
 * first removes such dirs from TMPDIR, so while the witness is there, no cluster was started
 * by a run with that TMPDIR. `remove()` takes it away before checking that nothing is left.
 */
export function engineStartWitness(tmp: string): { dir: string; untouched: () => boolean; remove: () => void } {
  const dir = join(tmp, 'recover-texts-witness');
  mkdirSync(dir, { mode: 0o700 });
  // Above the kernel's largest pid (2^22): never a live process.
  writeFileSync(join(dir, 'recover-texts.json'), JSON.stringify({ pid: 2 ** 30 - 1, created: new Date().toISOString() }) + '\n');
  return { dir, untouched: () => existsSync(join(dir, 'recover-texts.json')), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` whose bytes contain `text`. */
export function filesContaining(dir: string, text: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(text);
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isFile() && readFileSync(p).includes(needle)) found.push(p);
  }
  return found;
}

/** What a run must leave behind in its TMPDIR: nothing, and no process still using it. */
export function expectNothingLeft(tmp: string): void {
  expect(leftovers(tmp)).toEqual([]);
  expect(processesMentioning(tmp)).toEqual([]);
}

/** The commands of each ```sh block in `text` (a README's section): its lines, less blanks and comments. */
export function shBlocks(text: string): string[][] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.split('\n').filter((l) => l.trim() && !l.startsWith('#')));
}

/**
 * The ```sh examples of one README section, and a runner that runs them as a
 * user would (npx recover-texts is the built CLI) in a scratch folder where
 * `fixtures/` is this repo's, with a private TMPDIR. Call setup() in
 * beforeAll and cleanup() in afterAll.
 */
export function readmeSection(from: string, to: string) {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(from), readme.indexOf(to));
  const commands = shBlocks(section)[0]!;
  const dirs = { cwd: '', tmp: '' };
  return {
    section,
    commands,
    dirs,
    setup(label: string) {
      dirs.cwd = makeTmp(`${label}-cwd`);
      dirs.tmp = makeTmp(`${label}-tmp`);
      symlinkSync(FIXTURES, join(dirs.cwd, 'fixtures'));
    },
    cleanup() {
      removeTmp(dirs.cwd);
      removeTmp(dirs.tmp);
    },
    run: (command: string) =>
      execFileSync('sh', ['-c', command.replace(/^npx recover-texts /, `${process.execPath} ${CLI} `)], {
        cwd: dirs.cwd,
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: dirs.tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
  };
}
