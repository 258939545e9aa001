/**
 * Debian's nginx, started by a test as the current user on 127.0.0.1 with everything in a temp
 * dir of its own (prefix, conf, logs, a self-signed certificate made with openssl), serving a
 * folder over https and http. The access log gives each request's $body_bytes_sent.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const NGINX = '/usr/sbin/nginx';
export const HAVE_NGINX = existsSync(NGINX) && spawnOk('openssl', ['version']);

function spawnOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A port free now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  /** https://127.0.0.1:PORT */
  https: string;
  /** http://127.0.0.1:PORT */
  http: string;
  httpsPort: number;
  /** The certificate to trust (NODE_EXTRA_CA_CERTS). */
  cert: string;
  /** Bytes of body sent per request whose URI starts with `path` (query strings included), since `mark`. */
  bytesSent(path: string, since?: number): number;
  /** The access log's length now, for bytesSent's `since`. */
  mark(): number;
  stop(): Promise<void>;
}

/**
 * nginx serving `root` at /, with: /forbidden/ answering 403, /noranges/ (the same files)
 * without range support (`max_ranges 0`), /slow/ at `limit_rate`. `extra` goes into the server block.
 */
export async function startNginx(dir: string, root: string, opts: { limitRate?: string } = {}): Promise<Nginx> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const httpsPort = await freePort();
  const httpPort = await freePort();
  const log = join(dir, 'access.log');
  const t = join(dir, 'tmp');
  const locations = `
      location / { root ${root}; }
      location /forbidden/ { return 403; }
      location /noranges/ { alias ${root}/; max_ranges 0; }
      location /slow/ { alias ${root}/; limit_rate ${opts.limitRate ?? '10m'}; }`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  log_format bytes '$request_uri $status $body_bytes_sent "$http_range"';
  access_log ${log} bytes;
  client_body_temp_path ${t}/body;
  proxy_temp_path ${t}/proxy;
  fastcgi_temp_path ${t}/fastcgi;
  uwsgi_temp_path ${t}/uwsgi;
  scgi_temp_path ${t}/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 10000;
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ${locations}
  }
  server {
    listen 127.0.0.1:${httpPort};
    ${locations}
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await waitForPort(httpsPort);
  await waitForPort(httpPort);
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  return {
    https: `https://127.0.0.1:${httpsPort}`,
    http: `http://127.0.0.1:${httpPort}`,
    httpsPort,
    cert,
    mark: () => lines().length,
    bytesSent(path, since = 0) {
      let n = 0;
      for (const line of lines().slice(since).split('\n')) {
        const [uri, , sent] = line.split(' ');
        if (uri?.startsWith(path)) n += Number(sent);
      }
      return n;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      await exited;
    },
  };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}`);
}
