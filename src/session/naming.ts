/**
 * Every error about a backup names it, as the user gave its path, once. The
 * stages below (detect, source, archive, filter, load) often know only bytes
 * and lines ("the backup ends inside the data of tasktexts"); the session
 * knows which backup it is loading, so the name is added here, in one place.
 */
import { RecoverError } from '../errors.js';

/** Does `message` name `path` (as a word of its own, not inside a longer name)? */
function namesBackup(message: string, path: string): boolean {
  let at = message.indexOf(path);
  while (at >= 0) {
    const before = message[at - 1];
    const after = message[at + path.length];
    if ((before === undefined || /[\s("'`]/.test(before)) && (after === undefined || /[\s)"'`:;,]/.test(after))) return true;
    at = message.indexOf(path, at + 1);
  }
  return false;
}

/** The error, its message starting with the backup's path unless it names it already. */
export function namingBackup(e: RecoverError, path: string): RecoverError {
  if (namesBackup(e.message, path)) return e;
  return new RecoverError(e.code, `${path}: ${e.message}`, { hint: e.hint, detail: e.detail, pg: e.pg, exit: e.exit, cause: e });
}

/**
 * For one backup's loading: errors about the backup are named; a failure to
 * start PostgreSQL or a bad option is not about the backup, and stays as it is.
 */
export function aboutBackup(e: unknown, path: string): unknown {
  if (!(e instanceof RecoverError) || e.exit === 'engine' || e.exit === 'usage' || e.exit === 'interrupted') return e;
  return namingBackup(e, path);
}
