#!/usr/bin/env node
/** The `recover-texts` command: runs the tool on this process's arguments (program.ts) and sets its exit status. */
import { ExitCode } from '../errors.js';
import { visibleLines } from '../terminal.js';
import { runCli } from './program.js';

runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(visibleLines(`recover-texts: ${(e as Error).message}\n`));
    process.exitCode = ExitCode.internal;
  },
);
