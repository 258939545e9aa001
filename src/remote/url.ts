/**
 * Backup arguments that are web addresses. A presigned S3 or Heroku backup URL carries its
 * signature in the query string, and a URL may carry user:password@: both are credentials, so
 * a URL is named everywhere by `redactUrl` (messages, progress, reports, README.txt, --json),
 * and the whole URL lives only inside the source that fetches it.
 */

/** Whether a backup argument is an http:// or https:// URL (never a path: it is not stat'ed). */
export function isUrl(arg: string): boolean {
  return /^https?:\/\//i.test(arg);
}

/** How a backup URL is shown: scheme, host and path; never the query, fragment or user:password@. */
export function redactUrl(arg: string | URL): string {
  let u: URL;
  try {
    u = typeof arg === 'string' ? new URL(arg) : arg;
  } catch {
    // Not parsable: keep only what comes before any query, fragment or credentials.
    const s = String(arg).replace(/[?#].*$/s, '');
    return s.replace(/^([a-z]+:\/\/)[^/@]*@/i, '$1');
  }
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** How a backup argument is named: a URL redacted, a path as given. */
export function backupName(arg: string): string {
  return isUrl(arg) ? redactUrl(arg) : arg;
}
