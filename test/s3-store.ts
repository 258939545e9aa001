/**
 * An S3-compatible store for the tests: s3rver on 127.0.0.1 (test/s3rver.mjs, a process of its
 * own), its objects in a temp folder, the one account it knows (S3RVER / S3RVER). Objects are put
 * with the AWS SDK, as a backup job's `aws s3 cp` would.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { makeTmp, removeTmp, ROOT } from './helpers.js';

export const S3_BUCKET = 'backups';
/** s3rver's account: the only keys it accepts. */
const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';

export interface TestStore {
  endpoint: string;
  /** The environment a run needs to reach the store: its keys, a region, and nothing from this machine's ~/.aws. */
  env: NodeJS.ProcessEnv;
  put(key: string, body: Buffer | string): Promise<void>;
  putFile(key: string, path: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startStore(): Promise<TestStore> {
  const dir = makeTmp('s3rver');
  const server = spawn(process.execPath, ['--openssl-legacy-provider', join(ROOT, 'test', 's3rver.mjs'), join(dir, 'store'), S3_BUCKET], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  const first = await Promise.race([once(createInterface({ input: server.stdout! }), 'line'), exited.then(([code]) => Promise.reject(new Error(`s3rver exited (${code}) before listening`)))]);
  const { port } = JSON.parse(String(first[0])) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const env = storeEnv(dir, { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
  // The SDK's advice to move to Node 22 is no finding of these tests.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  const put = async (key: string, body: Buffer | string) => {
    await client.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: key, Body: Buffer.from(body) }));
  };
  return {
    endpoint,
    env,
    put,
    putFile: (key, path) => put(key, readFileSync(path)),
    async stop() {
      client.destroy();
      if (server.exitCode === null) {
        server.kill();
        await exited;
      }
      removeTmp(dir);
    },
  };
}

/**
 * An environment with these AWS settings and no others: the machine's own credentials, profile,
 * endpoint and ~/.aws files are left out, and the instance metadata service is not asked.
 */
function storeEnv(dir: string, aws: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...aws,
  };
}
