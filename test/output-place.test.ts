/**
 * Where an output may go, in process (export/write.ts checkOutputPlace): checked before any backup
 * is read, and again just before an existing output is replaced. The commands' own checks (which
 * kinds of folder, which files are backups) are in safety-cli.test.ts, through the CLI.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecoverError } from '../src/errors.js';
import { checkOutputPlace, writeDirAtomic, writeFileAtomic, type OutputPlace } from '../src/export/index.js';
import { Scope } from '../src/scope.js';
import { makeTmp, removeTmp } from './helpers.js';

let work: string;
beforeAll(() => {
  work = makeTmp('output-place');
});
afterAll(() => removeTmp(work));

/** The error `p` fails with: its code and message. */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'it should have failed').toBeInstanceOf(RecoverError);
  const r = e as RecoverError;
  return { code: r.code, message: r.message, hint: r.hint };
}

const place = (over: Partial<OutputPlace> = {}): OutputPlace => ({ force: false, flag: '--out', ...over });

describe('checkOutputPlace', () => {
  it('a new output in a folder that is there: nothing to say', async () => {
    await expect(checkOutputPlace(join(work, 'new.json'), place())).resolves.toBeUndefined();
    await expect(checkOutputPlace(join(work, 'new-folder'), place({ folder: true }))).resolves.toBeUndefined();
  });

  it('a folder that is not there, a file in its place, or a file name ending in a slash: cannot be written', async () => {
    expect(await failure(checkOutputPlace(join(work, 'none', 'a.json'), place({ flag: '--html' })))).toEqual({
      code: 'OUTPUT_FAILED',
      message: `cannot write ${join(work, 'none', 'a.json')}: its folder does not exist`,
      hint: 'choose a writable --html location; nothing was written',
    });
    writeFileSync(join(work, 'plain-file'), 'x');
    expect((await failure(checkOutputPlace(join(work, 'plain-file', 'a.json'), place()))).message).toBe(`cannot write ${join(work, 'plain-file', 'a.json')}: a part of the path is not a folder`);
    expect((await failure(checkOutputPlace(`${join(work, 'a.json')}/`, place()))).message).toBe(`cannot write ${join(work, 'a.json')}/: --out names a file, and a file's name does not end in /, nor is it . or ..`);
  });

  it('an existing output: kept without --force; with it, replaced unless it is of the other kind, an input, or what the command refuses', async () => {
    const file = join(work, 'old.json');
    writeFileSync(file, '[]\n');
    expect((await failure(checkOutputPlace(file, place()))).code).toBe('OUTPUT_EXISTS');
    await expect(checkOutputPlace(file, place({ force: true }))).resolves.toBeUndefined();
    expect(await failure(checkOutputPlace(file, place({ force: true, folder: true, flag: '--restore' })))).toEqual({
      code: 'OUTPUT_PROTECTED',
      message: `${file} cannot be replaced: it is a file, and --restore writes a folder`,
      hint: 'choose another --restore',
    });
    expect((await failure(checkOutputPlace(file, place({ force: true, inputs: [file] })))).message).toBe(`${file} cannot be replaced: it is ${file}, which is being read`);
    const folder = join(work, 'inputs');
    mkdirSync(join(folder, 'nightly'), { recursive: true });
    expect((await failure(checkOutputPlace(folder, place({ force: true, folder: true, inputs: [join(folder, 'nightly')] })))).message).toBe(
      `${folder} cannot be replaced: it holds ${join(folder, 'nightly')}, which is being read`,
    );
    // An input elsewhere, or one that is not a path here (a URL), is no reason.
    await expect(checkOutputPlace(file, place({ force: true, inputs: [join(work, 'elsewhere.sql'), 'https://example.test/b.dump'] }))).resolves.toBeUndefined();
    expect(await failure(checkOutputPlace(folder, place({ force: true, folder: true, refuseToReplace: async () => 'it is not ours' })))).toEqual({
      code: 'OUTPUT_PROTECTED',
      message: `${folder} cannot be replaced: it is not ours`,
      hint: 'choose another --out, or empty or remove the folder yourself',
    });
  });
});

describe('the write checks again before it replaces', () => {
  it('a folder that became another while the run went on is kept, and the new output is not left behind', async () => {
    const out = join(work, 'uploads');
    mkdirSync(out);
    writeFileSync(join(out, 'README.txt'), 'ours\n');
    let ours = true;
    const checked = place({ force: true, folder: true, flag: '--restore', refuseToReplace: async () => (ours ? null : 'it is not a folder recover-texts wrote') });
    await checkOutputPlace(out, checked);
    // Meanwhile, someone puts their work there.
    ours = false;
    writeFileSync(join(out, 'thesis.tex'), 'mine\n');
    const scope = new Scope();
    const e = await failure(writeDirAtomic(out, async (dir) => writeFileSync(join(dir, 'a.json'), '[]\n'), { force: true, scope, flag: '--restore', place: checked }));
    expect(e.code).toBe('OUTPUT_PROTECTED');
    expect(readdirSync(out).sort()).toEqual(['README.txt', 'thesis.tex']);
    expect(readdirSync(work).filter((n) => n.endsWith('.partial'))).toEqual([]);
    // A file the same way: a backup put where the report was to go is not replaced.
    const page = join(work, 'who.html');
    writeFileSync(page, '<!DOCTYPE html>');
    let backup = false;
    const pageChecked = place({ force: true, flag: '--html', refuseToReplace: async () => (backup ? 'it is a PostgreSQL backup' : null) });
    await checkOutputPlace(page, pageChecked);
    backup = true;
    expect((await failure(writeFileAtomic(page, '<p>new</p>', { force: true, scope, flag: '--html', place: pageChecked }))).message).toBe(`${page} cannot be replaced: it is a PostgreSQL backup`);
    expect(readdirSync(work).filter((n) => n.endsWith('.partial'))).toEqual([]);
    await scope[Symbol.asyncDispose]();
  });
});
