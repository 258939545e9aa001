/**
 * Backups in S3 (or an S3-compatible store): `s3://bucket/key` is one object, `s3://bucket/prefix/`
 * a folder of them. An object is read by ranged GETs (a seekable ByteSource, like a file), so an
 * archive with data offsets costs only its header, TOC and the wanted tables' blocks; a reader
 * that goes from start to end (`sequential()`) gets one GET streamed. Either is taken up where it
 * stopped when the connection drops (a ranged GET from the next byte; tries and waits as for a
 * URL, resume.ts), and every request after the first asks for the first answer's version only
 * (IfMatch on its ETag), so two versions of the object never mix. The AWS
 * SDK is loaded with import() only when an s3:// argument is given: every other run stays as
 * fast to start as before. Credentials and region come from the SDK's standard chain
 * (environment, ~/.aws, SSO, instance roles); `--endpoint-url` or AWS_ENDPOINT_URL names an
 * S3-compatible store, addressed path-style (bucket in the path, not the host name).
 * Messages name buckets and keys only, never a credential or a signed URL.
 */
import { Readable } from 'node:stream';
import { RecoverError } from '../errors.js';
import { rangedBytes, type ByteSource } from '../archive/index.js';
import { Resume, type ResumeOptions } from './resume.js';

type Sdk = typeof import('@aws-sdk/client-s3');

const SCHEME = 's3://';
/** The region requests are signed for when none is set: AWS's first, where its redirects start. */
const FALLBACK_REGION = 'us-east-1';

/** Where remote backups are read: resolved once at the command line (cli/options.ts). */
export interface S3Settings {
  /** An S3-compatible store's URL (--endpoint-url, AWS_ENDPOINT_URL); unset: AWS itself. */
  endpoint?: string;
}

/** An s3:// argument: a bucket and a key, or a prefix (a key ending in `/`, or none) that is a folder. */
export interface S3Place {
  bucket: string;
  key: string;
  folder: boolean;
}

/** An object found by listing a folder, or named. */
export interface S3Object {
  /** `s3://bucket/key`, as messages name it. */
  path: string;
  size: number;
  modifiedAt: Date;
}

/** A folder's listing: its objects (by key), and the sub-folders it holds (`s3://bucket/prefix/sub/`). */
interface S3Listing {
  objects: S3Object[];
  folders: string[];
}

/** One bucket's objects, read with one client. */
export interface S3Store {
  /** Every object directly under the folder's prefix (all pages), and its sub-folders. */
  list(place: S3Place): Promise<S3Listing>;
  /** One named object's size and date; a missing object, bucket or a refusal is a clean error. */
  stat(place: S3Place): Promise<S3Object>;
  /** An object's bytes, by ranged GETs. */
  bytes(object: S3Object): ByteSource;
}

export function isS3Url(arg: string): boolean {
  return arg.slice(0, SCHEME.length).toLowerCase() === SCHEME;
}

/** The folder an object is in, as a folder is named: its prefix with the slash (`s3://bucket/nightly/`, or `s3://bucket/`). */
export function s3Folder(path: string): string {
  const place = parseS3Url(path);
  return s3Path(place.bucket, place.key.slice(0, place.key.lastIndexOf('/') + 1));
}

/** The `--endpoint-url` a command printed to run later needs to read `paths`: the one given, when any of them is in S3. */
export function endpointOption(endpointUrl: string | undefined, paths: readonly string[]): string[] {
  return endpointUrl && paths.some(isS3Url) ? ['--endpoint-url', endpointUrl] : [];
}

/** `s3://bucket/key` or `s3://bucket/prefix/` (also `s3://bucket`, the whole bucket as a folder). */
export function parseS3Url(arg: string): S3Place {
  const rest = arg.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  // S3's bucket naming rules (lower case, digits, dots, hyphens; 3 to 63), loosened to what compatible stores allow.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket) || key.startsWith('/')) {
    throw new RecoverError('S3_URL_INVALID', `${JSON.stringify(arg)} is not an S3 location`, {
      hint: 'write s3://BUCKET/KEY for one backup, or s3://BUCKET/PREFIX/ (ending in /) for a folder of them',
    });
  }
  return { bucket, key, folder: key === '' || key.endsWith('/') };
}

function s3Path(bucket: string, key: string): string {
  return `${SCHEME}${bucket}/${key}`;
}

/** Check --endpoint-url (or AWS_ENDPOINT_URL): an http(s) URL. */
export function checkEndpoint(value: string, from: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // Nothing that could be a secret (user:password@, a query or fragment): the endpoint is named in messages and pasted commands.
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw new RecoverError('S3_ENDPOINT_INVALID', `${from} is not an http(s) URL of an S3-compatible store`, {
      hint: 'give it as http://HOST:PORT or https://HOST (credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws)',
    });
  }
  return value;
}

/** The store for one bucket: the SDK loaded now, its credentials looked up at the first request; `opts`: --debug's notes, tries and waits of a streamed read. */
export async function openS3(settings: S3Settings, opts: ResumeOptions = {}): Promise<S3Store> {
  const sdk = await loadSdk();
  const options = {
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    // AWS answers a request signed for another region than the bucket's with where it is: follow that.
    followRegionRedirects: true,
  };
  // AWS_REGION, else AWS_DEFAULT_REGION (as the AWS CLI reads it), else the SDK's chain (the profile's region).
  let client = new sdk.S3Client({ ...options, region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined });
  if (!(await client.config.region().catch(() => ''))) {
    // None anywhere (an S3-compatible store needs none): signing needs one, and AWS redirects from it.
    client.destroy();
    client = new sdk.S3Client({ ...options, region: FALLBACK_REGION });
  }
  const where = settings.endpoint ? ` at ${settings.endpoint}` : '';
  const send = <T>(place: S3Place, what: 'list' | 'read', op: () => Promise<T>) => op().catch((e: unknown) => Promise.reject(s3Error(e, place, what, where)));
  return {
    async list(place) {
      const objects: S3Object[] = [];
      const folders: string[] = [];
      let token: string | undefined;
      do {
        const page = await send(place, 'list', () =>
          client.send(new sdk.ListObjectsV2Command({ Bucket: place.bucket, Prefix: place.key, Delimiter: '/', ContinuationToken: token })),
        );
        for (const o of page.Contents ?? []) {
          // The folder's own marker (a zero-byte `prefix/` some consoles make) is not a member.
          if (o.Key === undefined || o.Key === place.key) continue;
          objects.push({ path: s3Path(place.bucket, o.Key), size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) });
        }
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(s3Path(place.bucket, p.Prefix));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return { objects, folders };
    },
    async stat(place) {
      try {
        const head = await client.send(new sdk.HeadObjectCommand({ Bucket: place.bucket, Key: place.key }));
        return { path: s3Path(place.bucket, place.key), size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
      } catch (e) {
        // A HEAD's answer has no body, so a 404 does not say whether the key or the bucket is missing: a listing does.
        if (statusOf(e) !== 404) throw s3Error(e, place, 'read', where);
        const under = await send(place, 'read', () => client.send(new sdk.ListObjectsV2Command({ Bucket: place.bucket, Prefix: `${place.key}/`, MaxKeys: 1 })));
        throw new RecoverError('S3_NO_SUCH_KEY', `cannot read backup ${s3Path(place.bucket, place.key)}: no such object in the bucket ${place.bucket}${where}`, {
          hint: under.KeyCount ? `it is a folder: end it with a slash (${s3Path(place.bucket, place.key)}/) to read the backups in it` : 'check the key (aws s3 ls s3://BUCKET/PREFIX/ lists them)',
        });
      }
    },
    bytes(object) {
      const place = parseS3Url(object.path);
      const get = (range?: string, etag?: string) =>
        send(place, 'read', () => client.send(new sdk.GetObjectCommand({ Bucket: place.bucket, Key: place.key, Range: range, IfMatch: etag })));
      const resume = new Resume(object.path, opts, (why) => new RecoverError('S3_UNREACHABLE', `cannot read backup ${object.path}: ${why}`, {
        hint: `check the network${where ? ' and that the store is running' : ''}, and try again; or copy the backup down (aws s3 cp) and pass the file`,
      }));
      /** The ETag of the first answer: every later request asks for that version only (IfMatch), so two versions never mix. */
      let etag: string | undefined;
      /** An answer from byte `at` (up to `end`, exclusive, else to the object's end), of the first answer's version. */
      const open = async (at: number, end?: number) => {
        const range = end !== undefined ? `bytes=${at}-${end - 1}` : at > 0 ? `bytes=${at}-` : undefined;
        const got = await get(range, etag);
        // A store that ignores IfMatch still names the version it sent.
        if (etag && got.ETag && got.ETag !== etag) {
          (got.Body as Readable | undefined)?.destroy();
          throw changed(`cannot read backup ${object.path}`);
        }
        // A store (or a proxy before it) that ignores Range sends the object from its first byte: never taken for byte `at`.
        if (range && !got.ContentRange?.startsWith(`bytes ${at}-`)) {
          (got.Body as Readable | undefined)?.destroy();
          throw new RecoverError('S3_FAILED', `cannot read backup ${object.path}: asked for the bytes from ${at}, the store sent ${got.ContentRange ?? 'the whole object'}`, {
            hint: 'the store does not answer ranged reads: copy the backup down (aws s3 cp) and pass the file',
          });
        }
        // The size the listing gave is what every read is bounded by: an object replaced before the first GET is another object.
        const total = range ? Number(/\/(\d+)$/.exec(got.ContentRange ?? '')?.[1] ?? object.size) : (got.ContentLength ?? object.size);
        if (total !== object.size) {
          (got.Body as Readable | undefined)?.destroy();
          throw changed(`cannot read backup ${object.path}`, undefined, `it holds ${total} bytes, ${object.size} when listed`);
        }
        etag ??= got.ETag;
        return { body: got.Body as AsyncIterable<Uint8Array>, from: at };
      };
      const read = async (pos: number, len: number): Promise<Buffer> => {
        const end = Math.min(object.size, pos + len);
        if (end <= pos) return Buffer.alloc(0);
        // A piece cut short by a dropped connection is asked for again from the byte after the last one received.
        const parts: Buffer[] = [];
        for await (const b of resume.body(pos, end, (at) => open(at, end))) parts.push(b);
        return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      };
      // Read from start to end (.sql.gz, an archive without offsets): one GET streamed, not one per piece;
      // after a drop, the rest from the next byte.
      const stream = () => Readable.from(resume.body(0, object.size, (at) => open(at)), { objectMode: false, highWaterMark: 1024 * 1024 });
      return rangedBytes(object.path, object.size, read, stream, {});
    },
  };
}

/** The SDK, loaded here only (it is left out of the bundle, as testcontainers is). */
async function loadSdk(): Promise<Sdk> {
  // Else the SDK writes a paragraph to stderr on Node 20 (its newer releases will need Node 22): not the admin's concern mid-run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    return await import('@aws-sdk/client-s3');
  } catch (e) {
    throw new RecoverError('S3_SDK_MISSING', 'reading s3:// backups needs the AWS SDK (@aws-sdk/client-s3), which is not installed', {
      hint: "run `npm install` in recover-texts' folder, or download the backup and pass the file",
      cause: e,
    });
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A read taken up again found another version of the object than the one it started on. */
function changed(doing: string, cause?: unknown, how = "its ETag is not the first answer's"): RecoverError {
  return new RecoverError('S3_FAILED', `${doing}: the object changed in S3 while it was being read (${how})`, {
    hint: 'run the command again once the backup job has finished writing it',
    cause,
  });
}

/** The SDK's error as one line with a hint; its message is S3's own (it names no credential). */
function s3Error(e: unknown, place: S3Place, what: 'list' | 'read', where: string): RecoverError {
  if (e instanceof RecoverError) return e;
  const name = (e as Error)?.name ?? '';
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  const shown = s3Path(place.bucket, place.key);
  const doing = what === 'list' ? `cannot list ${shown}` : `cannot read backup ${shown}`;
  if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
    return new RecoverError('S3_NO_CREDENTIALS', `${doing}: no AWS credentials found`, {
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE for a profile in ~/.aws (aws configure, aws sso login)',
      cause: e,
    });
  }
  if (name === 'NoSuchBucket' || (what === 'list' && statusOf(e) === 404)) {
    return new RecoverError('S3_NO_SUCH_BUCKET', `${doing}: there is no bucket ${place.bucket}${where}`, {
      hint: where ? 'check the bucket name, and that --endpoint-url names the right store' : 'check the bucket name (aws s3 ls lists yours), or give --endpoint-url for an S3-compatible store',
      cause: e,
    });
  }
  if (name === 'PreconditionFailed' || statusOf(e) === 412) return changed(doing, e);
  if (name === 'NoSuchKey') {
    return new RecoverError('S3_NO_SUCH_KEY', `${doing}: no such object in the bucket ${place.bucket}${where}`, { hint: 'check the key (aws s3 ls s3://BUCKET/PREFIX/ lists them)', cause: e });
  }
  if (['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled', 'Forbidden'].includes(name) || statusOf(e) === 403) {
    // A HEAD's refusal has no body to name it: the SDK calls it Unknown.
    return new RecoverError('S3_ACCESS_DENIED', `${doing}: access denied (${name && name !== 'Unknown' ? name : 'HTTP 403'})`, {
      hint: `the credentials in use may not ${what === 'list' ? 's3:ListBucket on' : 's3:GetObject in'} ${place.bucket}, or are wrong or expired: check AWS_PROFILE or AWS_ACCESS_KEY_ID (aws sts get-caller-identity says whose they are)`,
      cause: e,
    });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)) {
    return new RecoverError('S3_UNREACHABLE', `${doing}: the store${where || ' (AWS S3)'} cannot be reached (${code})`, {
      hint: where ? 'check --endpoint-url (or AWS_ENDPOINT_URL), and that the store is running' : 'check the network, and AWS_REGION',
      cause: e,
    });
  }
  return new RecoverError('S3_FAILED', `${doing}: S3 answered ${name || 'an error'}${statusOf(e) ? ` (HTTP ${statusOf(e)})` : ''}`, {
    hint: 'run with --debug for S3\'s whole answer; a wrong region (AWS_REGION) is a common cause',
    cause: e,
  });
}
