/**
 * The story fixtures are what they claim: each night's backup is dated as the manifest
 * says, and every user's export from it equals that night's expected JSON.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../src/export/index.js';
import { withBackup, type SessionConfig } from '../src/session/index.js';
import { STORY, story, storyFile } from './story-helpers.js';
import { Scope } from '../src/scope.js';

const config: SessionConfig = { engine: { kind: 'embedded', log: () => {} }, scope: new Scope(), timezone: 'UTC', log: () => {} };

describe('the story fixtures', () => {
  for (const night of story.nights) {
    it(`${night.file} (${night.format}) is dated ${night.toolDate} and exports every user as expected`, async () => {
      await withBackup(join(STORY, night.file), config, async (b) => {
        expect(b.date.value).toBe(night.toolDate);
        expect(b.date.source).toBe(night.format === 'custom' ? 'archive header' : 'file name');
        for (const f of readdirSync(join(STORY, 'expected', night.date))) {
          const texts = await b.query.texts(await b.query.findUser(f.replace(/\.json$/, '')));
          expect(renderJson(texts), `${night.date}/${f}`).toBe(storyFile(join('expected', night.date, f)));
        }
      });
    });
  }
});
