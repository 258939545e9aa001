/**
 * Errors are a documented interface: every code in ERROR_CODES has its row in the README's
 * table (same exit status, same words), the table has no other rows, and every code is raised
 * somewhere in src/ (no code kept for nothing).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ExitCode, RecoverError } from '../src/errors.js';
import { ROOT } from './helpers.js';

function readmeRows(): Map<string, { exit: number; meaning: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Error codes'));
  const rows = new Map<string, { exit: number; meaning: string }>();
  for (const m of section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d+) \| (.*) \|$/gm)) rows.set(m[1]!, { exit: Number(m[2]), meaning: m[3]!.replaceAll('\\|', '|') });
  return rows;
}

function sourceText(dir: string): string {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
    .join('\n');
}

describe('error codes', () => {
  it("the README's table and ERROR_CODES agree, row for row", () => {
    const rows = readmeRows();
    expect(rows.size).toBeGreaterThan(50);
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, { exit, meaning }] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), code).toEqual({ exit: ExitCode[exit], meaning });
    }
  });

  it('every code is raised somewhere in src/', () => {
    const src = sourceText(join(ROOT, 'src')).replace(/export const ERROR_CODES = \{[\s\S]*?\n\} as const/, '');
    for (const code of Object.keys(ERROR_CODES)) expect(src, code).toContain(`'${code}'`);
  });

  it("an error's exit status comes from its code; a re-worded one keeps its own", () => {
    expect(new RecoverError('BACKUP_TRUNCATED', 'x').exitCode).toBe(10);
    expect(new RecoverError('USER_NOT_FOUND', 'x').exitCode).toBe(12);
    expect(new RecoverError('NO_BACKUP_LOADED', 'x', { exit: 'tool' }).exitCode).toBe(9);
  });
});
