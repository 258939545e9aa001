/**
 * The README's "Restoring only what was lost" examples, run as written (in a
 * scratch folder where `fixtures/` is this repo's), and the output it shows
 * is what the first command prints: the docs cannot rot.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeSection } from './helpers.js';
import { storyFile } from './story-helpers.js';

const readme = readmeSection('## Restoring only what was lost', '## The upload JSON');
const { commands, run, dirs } = readme;
const shown = /```text\n([\s\S]*?)```/.exec(readme.section)![1]!;
beforeAll(() => readme.setup('readme'));
afterAll(() => readme.cleanup());

describe('the README on restoring only what was lost', () => {
  it('has the examples', () => {
    expect(commands.length).toBeGreaterThanOrEqual(6);
    expect(commands.every((c) => c.startsWith('npx recover-texts '))).toBe(true);
  });

  it('every example runs as written, and the output shown is the first one\'s', () => {
    const outputs = commands.map(run);
    const { cwd, tmp } = dirs;
    expect(outputs[0]).toBe(shown);
    expect(JSON.parse(readFileSync(join(cwd, 'alice-history.json'), 'utf8')).user.username).toBe('alice');
    expect(readFileSync(join(cwd, 'alice-history.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(readFileSync(join(cwd, 'alice-upload.json'), 'utf8')).toBe(storyFile('expected/merge/alice-auto.json'));
    const report = JSON.parse(readFileSync(join(cwd, 'alice-report.json'), 'utf8')) as { task_name: string }[];
    expect(report.map((e) => e.task_name)).toEqual(['0-CHANGE', '1-ADD', '1-VALID', '2-Edit', '2-COSTS', '3-REPORT', '4-API']);
    expect(readdirSync(join(cwd, 'all-texts')).sort()).toEqual(['alice.json', 'benjamin.json', 'chloe.json', 'index.json']);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
