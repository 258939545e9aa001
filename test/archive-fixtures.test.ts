/**
 * The archive fixtures are what the manifest says they are: for every custom, directory and
 * tar archive, the header read natively gives the manifest's format, archive version,
 * compression and data offsets; and `current` has every format, compression and output kind
 * pg_dump 15 and 17 write, so the exports in fixture-exports.test.ts cover them all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readArchiveInfo } from '../src/detect/index.js';
import { FIXTURES } from './helpers.js';

interface Dump {
  file: string;
  format: string;
  pgDump: string;
  archiveVersion?: string;
  compression?: string;
  offsets?: boolean;
  pgDumpArgs?: string;
}
interface Db {
  name: string;
  dumps: Dump[];
}

const GENERATED = join(FIXTURES, 'generated');
const manifest = JSON.parse(readFileSync(join(GENERATED, 'manifest.json'), 'utf8')) as { databases: Db[] };
const ARCHIVE_FORMATS = ['custom', 'directory', 'tar'];

for (const db of manifest.databases) {
  const archives = db.dumps.filter((d) => ARCHIVE_FORMATS.includes(d.format));
  if (archives.length === 0) continue;
  describe(`archive fixtures of "${db.name}"`, () => {
    for (const dump of archives) {
      it(`${dump.file}: the header says ${dump.format} ${dump.archiveVersion}, ${dump.compression}, offsets ${dump.offsets}`, async () => {
        const info = await readArchiveInfo(join(GENERATED, db.name, dump.file));
        expect({
          format: info.format,
          archiveVersion: info.version.text,
          compression: info.compression.algorithm,
          offsets: info.hasDataOffsets,
        }).toEqual({ format: dump.format, archiveVersion: dump.archiveVersion, compression: dump.compression, offsets: dump.offsets });
        expect(`pg_dump (PostgreSQL) ${info.pgDumpVersion}`).toBe(dump.pgDump);
      });
    }
  });
}

describe('the archive fixtures of "current"', () => {
  const archives = manifest.databases.find((d) => d.name === 'current')!.dumps.filter((d) => ARCHIVE_FORMATS.includes(d.format));
  const kinds = new Set(archives.map((d) => `${d.archiveVersion} ${d.format} ${d.compression} offsets=${d.offsets}`));

  it('cover every format and compression pg_dump 15 writes (archive 1.14), custom with and without offsets', () => {
    for (const c of ['none', 'gzip']) {
      for (const kind of [`custom ${c} offsets=true`, `custom ${c} offsets=false`, `directory ${c} offsets=true`]) expect(kinds).toContain(`1.14 ${kind}`);
    }
    expect(kinds).toContain('1.14 tar none offsets=true');
  });

  it('cover every format and compression pg_dump 17 writes (archive 1.16), custom with and without offsets', () => {
    for (const c of ['none', 'gzip', 'lz4', 'zstd']) {
      for (const kind of [`custom ${c} offsets=true`, `custom ${c} offsets=false`, `directory ${c} offsets=true`]) expect(kinds).toContain(`1.16 ${kind}`);
    }
    expect(kinds).toContain('1.16 tar none offsets=true');
  });

  it("include one made with Heroku's flags", () => {
    expect(archives.map((d) => d.pgDumpArgs)).toContain('-Fc --no-acl --no-owner --quote-all-identifiers > FILE');
  });
});
