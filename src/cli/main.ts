#!/usr/bin/env node
/** The `recover-texts` command: runs the tool on this process's arguments (program.ts) and sets its exit status. */
import { ExitCode } from '../errors.js';
import { visibleLines } from '../terminal.js';
import { runCli } from './program.js';

/** How long a finished run waits for the event loop to empty before it exits anyway. */
const LINGER_MS = 1000;

runCli(process.argv).then(
  (code) => exitWhenDone(code),
  (e) => {
    process.stderr.write(visibleLines(`recover-texts: ${(e as Error).message}\n`));
    exitWhenDone(ExitCode.internal);
  },
);

/**
 * The run is over (its outputs written, its server and temp files removed):
 * exit as soon as the event loop is empty, or after LINGER_MS if a library
 * still has work pending that nobody waits for. testcontainers, for one, keeps
 * polling a container that died while starting until its own two-minute
 * timeout. Output still on its way to a slow reader (a pipe on macOS or
 * Windows is written asynchronously) is never cut: the exit waits for it.
 */
function exitWhenDone(code: number): void {
  process.exitCode = code;
  const exitOnceFlushed = () => {
    const pending = [process.stdout, process.stderr].find((s) => s.writableLength > 0);
    if (pending) pending.once('drain', exitOnceFlushed);
    else process.exit(code);
  };
  setTimeout(exitOnceFlushed, LINGER_MS).unref();
}
