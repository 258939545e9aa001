/**
 * export-all: every student's texts from one backup, after a total loss.
 * One upload JSON (or one folder of files) per student, plus index.json,
 * written as one folder atomically. A student whose texts cannot be
 * decoded (SQL_ASCII) is left out and named, not a reason to fail them all.
 */
import { promises as fs } from 'node:fs';
import { RecoverError } from '../errors.js';
import { newestTimestamp, type BackupQuery, type TextRecord, type UserRecord } from '../query/index.js';
import { fillTextsDir, renderUploadJson, uniqueFileNames, type ExportContext } from './render.js';
import { writeDirAtomic, type WriteOptions } from './write.js';

/** The folder's index: reserved, so no student's file or folder can take its name. */
const ALL_INDEX = 'index.json';

interface StudentTexts {
  user: UserRecord;
  texts: TextRecord[];
  /** Its file (json) or folder (files) in the output. */
  name: string;
}

export interface AllTexts {
  students: StudentTexts[];
  /** Students left out, with why (their texts are not valid UTF-8). */
  refused: RecoverError[];
}

/** Every user who has texts, with them. */
export async function allTexts(query: BackupQuery, format: 'json' | 'files'): Promise<AllTexts> {
  const found: Omit<StudentTexts, 'name'>[] = [];
  const refused: RecoverError[] = [];
  for (const user of await query.authors()) {
    try {
      found.push({ user, texts: await query.texts(user) });
    } catch (e) {
      if (!(e instanceof RecoverError && e.code === 'TEXT_NOT_UTF8')) throw e;
      refused.push(e);
    }
  }
  const names = uniqueFileNames(
    found.map((x) => x.user.username),
    format === 'json' ? '.json' : '',
    [ALL_INDEX],
  );
  return { students: found.map((x, k) => ({ ...x, name: names[k]! })), refused };
}

/** Write the folder: one upload JSON (task names as stored) or folder of files per student, and index.json. */
export async function writeAllTexts(out: string, all: AllTexts, format: 'json' | 'files', ctx: Omit<ExportContext, 'username'>, opts: WriteOptions): Promise<void> {
  const index = {
    ...ctx,
    format,
    skipped: all.refused.map((e) => e.message),
    users: all.students.map((x) => ({
      username: x.user.username,
      isStudent: x.user.isStudent,
      texts: x.texts.length,
      newest: newestTimestamp(x.texts),
      [format === 'json' ? 'file' : 'folder']: x.name,
    })),
  };
  await writeDirAtomic(
    out,
    async (dir) => {
      for (const x of all.students) {
        const target = `${dir}/${x.name}`;
        if (format === 'json') await fs.writeFile(target, renderUploadJson(x.texts), { mode: 0o600 });
        else {
          await fs.mkdir(target, { mode: 0o700 });
          await fillTextsDir(target, x.texts, { ...ctx, username: x.user.username });
        }
      }
      await fs.writeFile(`${dir}/${ALL_INDEX}`, JSON.stringify(index, null, 2) + '\n', { mode: 0o600 });
    },
    opts,
  );
}
