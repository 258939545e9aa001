/**
 * A backup on a web server (a presigned S3 URL, a Heroku backup URL, any server) as a
 * ByteSource, with nothing written to disk. The first request asks for the first 64 KiB
 * (`Range: bytes=0-65535`): a 206 says the server honours ranges and gives the size
 * (Content-Range); those bytes serve detection and, for most archives, the whole header and TOC.
 * Then:
 *  - reads by position (an archive's wanted blocks, as the archive reader asks for them: at most
 *    1 MiB at a time and never past a block's end) are range requests for exactly those bytes;
 *  - a reader that goes from start to end (`sequential()`: .sql, .sql.gz, an archive without data
 *    offsets) gets one response streamed, read once;
 *  - a server that ignores ranges (a 200 to the first request) is streamed from its first answer.
 * A connection dropped mid-body is taken up again from the byte after the last one received
 * (a range request, checked with If-Range against the first answer's validator), a few times
 * with a doubling wait; a server without ranges is asked again from the start and what was read
 * already is passed over. RFC 9110 sections 14 (ranges) and 13.1.5 (If-Range).
 */
import { Readable } from 'node:stream';
import { RecoverError } from '../errors.js';
import { rangedBytes, streamBytes, type ByteSource } from '../archive/index.js';
import { Resume, type Answer, type ResumeOptions } from './resume.js';
import { redactUrl } from './url.js';

/** The first request's range: detection's sniff and most header+TOCs in one answer. */
const PROBE = 64 * 1024;

/** Said under --debug, tries and waits: the rule every remote read shares (resume.ts). */
export type HttpOptions = ResumeOptions;

export interface HttpBytes extends ByteSource {
  /** The server's Last-Modified, when it sends one. */
  readonly modifiedAt: Date | undefined;
  /** Whether the server honours range requests (else the backup is read once, start to end). */
  readonly ranges: boolean;
}

/** Open the backup at `url`: one request, answered with its first bytes; errors are the clean lines (403, 404, unreachable). */
export async function httpBytes(url: URL, opts: HttpOptions = {}): Promise<HttpBytes> {
  const http = new Http(url, opts);
  const first = await http.request(0, PROBE - 1);
  const modified = first.headers.get('last-modified');
  const modifiedAt = modified && !Number.isNaN(Date.parse(modified)) ? new Date(modified) : undefined;
  const etag = first.headers.get('etag');
  // A strong ETag, else Last-Modified: what If-Range compares, so a resumed read never mixes two versions of the file.
  http.validator = etag && !etag.startsWith('W/') ? etag : (modified ?? undefined);

  if (first.status === 416) {
    // Not even byte 0: an empty file (detection says so).
    await first.body?.cancel();
    return { name: http.name, size: 0, seekable: true, ranges: true, modifiedAt, read: async () => Buffer.alloc(0) };
  }
  if (first.status === 200) {
    opts.debug?.(`${http.name}: the server does not honour range requests, so the backup is read once, from start to end`);
    const length = Number(first.headers.get('content-length') ?? NaN);
    const size = Number.isSafeInteger(length) ? length : undefined;
    http.ranges = false;
    http.size = size;
    const once = streamBytes(toReadable(http.body(0, first)), http.name);
    return { name: http.name, size, seekable: false, ranges: false, modifiedAt, read: (pos, len) => once.read(pos, len) };
  }
  const size = totalOf(first.headers.get('content-range'));
  http.size = size;
  const prefix = await http.range(0, size === undefined ? PROBE : Math.min(PROBE, size), first);
  const read = async (pos: number, len: number): Promise<Buffer> => {
    const end = size === undefined ? pos + len : Math.min(pos + len, size);
    if (end <= pos) return Buffer.alloc(0);
    if (end <= prefix.length || (size !== undefined && prefix.length >= size)) return Buffer.from(prefix.subarray(pos, end));
    // Bytes of the first answer are never asked for again.
    if (pos < prefix.length) return Buffer.concat([prefix.subarray(pos), await http.range(prefix.length, end)]);
    return http.range(pos, end);
  };
  return rangedBytes(http.name, size, read, () => toReadable(http.body(0, undefined, prefix)), { ranges: true, modifiedAt });
}

/** The size in a Content-Range (`bytes 0-65535/1234567`); undefined for `/*`. */
function totalOf(contentRange: string | null): number | undefined {
  const m = /\/(\d+)\s*$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
}

function toReadable(gen: AsyncGenerator<Buffer>): Readable {
  return Readable.from(gen, { objectMode: false, highWaterMark: 1024 * 1024 });
}

type Body = AsyncIterable<Uint8Array>;

class Http {
  readonly name: string;
  validator: string | undefined;
  ranges = true;
  size: number | undefined;
  /** Tries again after a server error or a drop, by the rule all remote reads share. */
  private readonly resume: Resume;

  private readonly url: URL;
  /** user:password@ in the URL, sent as Basic authentication (fetch refuses a URL holding them). */
  private readonly auth: string | undefined;

  constructor(
    url: URL,
    private readonly opts: HttpOptions,
  ) {
    this.name = redactUrl(url);
    this.url = new URL(url);
    if (url.username || url.password) {
      this.auth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      this.url.username = '';
      this.url.password = '';
    }
    this.resume = new Resume(this.name, opts, (why) => this.failed(why));
  }

  /** A GET from byte `from` (to `to`, inclusive), retried while the server cannot answer; a refusal is a clean error. */
  async request(from: number, to?: number): Promise<Response> {
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (this.auth) headers.authorization = this.auth;
    if (this.ranges) headers.range = `bytes=${from}-${to ?? ''}`;
    if (this.ranges && this.validator && from > 0) headers['if-range'] = this.validator;
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(this.url, { headers, redirect: 'follow', signal: this.opts.signal });
        if (res.ok || res.status === 416) return res;
        await res.body?.cancel();
        const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
        if (res.status === 401 || res.status === 403) {
          throw new RecoverError('BACKUP_URL_FORBIDDEN', `cannot read backup ${this.name}: the server refused it (${status}); a presigned or backup URL has expired, or was copied without its query string`, {
            hint: 'get a fresh URL (heroku pg:backups:url --app APP; aws s3 presign s3://BUCKET/KEY) and pass it whole, in quotes',
          });
        }
        if (res.status === 404 || res.status === 410) {
          throw new RecoverError('BACKUP_NOT_FOUND', `cannot read backup ${this.name}: the server has no such file (${status})`, {
            hint: 'check the URL; a backup URL names one backup (heroku pg:backups lists them)',
          });
        }
        if (res.status < 500 && res.status !== 429) throw this.failed(`the server answered ${status}`);
        why = `the server answered ${status}`;
      } catch (e) {
        if (this.resume.final(e)) throw e;
        why = networkWhy(e);
        // A host that does not exist or a certificate not trusted will not change by waiting.
        if (/no such host|certificate/.test(why)) throw this.failed(why);
      }
      if (attempt >= this.resume.retries) throw this.failed(`${why}, ${attempt + 1} times`);
      await this.resume.wait(attempt, why);
    }
  }

  /**
   * Exactly the bytes [pos, end) (fewer where the file ends first), taken up again where a
   * connection drops; `first`: an answer already asked for from `pos`.
   */
  async range(pos: number, end: number, first?: Response): Promise<Buffer> {
    const parts: Buffer[] = [];
    let at = pos;
    let res = first;
    for (let drops = 0; at < end; ) {
      res ??= await this.request(at, end - 1);
      if (res.status === 416) {
        await res.body?.cancel();
        break;
      }
      this.expectRange(res, at);
      try {
        const got = await this.take(res, at, end - at);
        parts.push(got);
        at += got.length;
        break; // all asked for, or the file ends here
      } catch (e) {
        if (this.resume.final(e)) throw e;
        const part = (e as { got?: Buffer }).got;
        if (part?.length) {
          parts.push(part);
          at += part.length;
          drops = 0;
        }
        res = undefined;
        await this.resume.dropped(++drops, at);
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /**
   * Up to `max` bytes of a response's body (its first byte is byte `from` of the file). A body cut
   * short throws an error carrying what did arrive (`got`), so the caller goes on from there.
   */
  async take(res: Response, from: number, max: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    try {
      for await (const c of (res.body ?? []) as Body) {
        const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        parts.push(n + b.length > max ? b.subarray(0, max - n) : b);
        n = Math.min(max, n + b.length);
        if (n >= max) break;
      }
    } catch (e) {
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), { got: Buffer.concat(parts) });
    }
    const got = Buffer.concat(parts);
    // A body that ends early without an error (no Content-Length): a drop all the same.
    if (got.length < max && this.size !== undefined && from + got.length < this.size) throw Object.assign(new Error('the body ended early'), { got });
    return got;
  }

  /**
   * Every byte from `start` to the end, from `first` (a response that starts at byte 0) or new
   * requests; `prefix`: bytes from 0 already read, yielded first. Drops are taken up where they happened.
   */
  async *body(start: number, first?: Response, prefix?: Buffer): AsyncGenerator<Buffer> {
    let at = start;
    if (prefix && prefix.length > at) {
      yield Buffer.from(prefix.subarray(at));
      at = prefix.length;
    }
    const open = async (from: number): Promise<Answer | undefined> => {
      const res = await this.request(from);
      if (res.status === 416) {
        await res.body?.cancel();
        return undefined;
      }
      // A server without ranges answers from byte 0 again: what was read already is passed over.
      if (!this.ranges) return { body: (res.body ?? []) as Body, from: 0 };
      this.expectRange(res, from);
      return { body: (res.body ?? []) as Body, from };
    };
    yield* this.resume.body(at, this.size, open, first && { body: (first.body ?? []) as Body, from: 0 });
  }

  /** A range answer must start where it was asked to: a 200 to If-Range means the file changed. */
  private expectRange(res: Response, at: number): void {
    const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (res.status === 206 && m && Number(m[1]) === at) return;
    void res.body?.cancel();
    throw this.failed(
      res.status === 200
        ? 'the file changed on the server while it was being read (its first answer and a later one differ)'
        : `asked for the bytes from ${at}, the server sent ${res.headers.get('content-range') ?? `an answer without Content-Range (${res.status})`}`,
    );
  }

  private failed(why: string): RecoverError {
    return new RecoverError('BACKUP_URL_FAILED', `cannot read backup ${this.name}: ${why}`, {
      hint: 'check the network and the URL, and try again; or download the backup and pass the file',
    });
  }
}

/** A fetch failure in words, without the URL (undici's cause: ECONNREFUSED, ENOTFOUND, a TLS error). */
function networkWhy(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return 'the server refused the connection';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'no such host';
  if (code && /CERT|SSL|TLS/.test(code)) return `the server's TLS certificate is not trusted (${code}; NODE_EXTRA_CA_CERTS=FILE trusts a private CA)`;
  return code ? `the connection failed (${code})` : `the connection failed (${(cause?.message ?? (e as Error)?.message ?? 'unknown').replace(/https?:\/\/\S+/g, (u) => redactUrl(u))})`;
}
