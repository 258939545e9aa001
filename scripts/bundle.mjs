/**
 * The command as one file: dist/cli/main.js is replaced by a bundle of it
 * and its dependencies. Node 20 loads one file several times faster than
 * the hundred-odd modules tsc writes (each is resolved, read and compiled on
 * its own), which is a sixth of a small export's time. The other modules tsc
 * wrote stay in dist/ for the benchmarks, which import the engine directly.
 *
 * Left out: testcontainers (imported only by --engine docker, when needed),
 * the AWS SDK (imported only for an s3:// backup) and pg-native (pg's optional native driver, never used).
 */
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['testcontainers', '@testcontainers/postgresql', '@aws-sdk/client-s3', 'pg-native'],
  // pg asks at load whether it runs on Cloudflare Workers by making a fetch
  // Response, which loads Node's whole fetch implementation (undici, about
  // 20 ms). This bundle runs on Node only; nothing else in it uses Response.
  define: { Response: 'undefined' },
  // Bundled CommonJS packages (pg) call require() for Node's own modules.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
