/** Engine start failures are shown as the server's own message, without log clutter. */
import { describe, expect, it } from 'vitest';
import { tidyLogLine } from '../src/engine/index.js';

describe('tidyLogLine', () => {
  it('drops initdb\'s progress prefix and the log line prefix', () => {
    expect(tidyLogLine('running bootstrap script ... 2026-11-24 08:10:01.123 UTC [4242] FATAL:  could not create shared memory segment')).toBe(
      'FATAL:  could not create shared memory segment',
    );
  });
  it('keeps a message that has neither', () => {
    expect(tidyLogLine('initdb: error: could not create directory "/x": No space left on device')).toBe('initdb: error: could not create directory "/x": No space left on device');
  });
});
