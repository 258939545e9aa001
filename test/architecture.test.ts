/** ARCHITECTURE.md names every stage folder and shared file of src/: a new one fails until it is described. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './helpers.js';

it('ARCHITECTURE.md names every folder and file of src/', () => {
  const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const entries = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).map((d) => (d.isDirectory() ? `\`${d.name}/\`` : `\`${d.name}\``));
  expect(entries.length).toBeGreaterThan(10);
  const missing = entries.filter((name) => !doc.includes(name));
  expect(missing).toEqual([]);
});
