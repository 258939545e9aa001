/**
 * The report's HTML is safe whatever the texts hold: every string from a
 * backup is escaped, nothing can run or load (no script, no external
 * resource, a CSP that forbids both), and invisible bytes are made visible.
 */
import { describe, expect, it } from 'vitest';
import { buildHistory, type Snapshot } from '../src/history/index.js';
import type { TextRecord } from '../src/query/index.js';
import { esc, renderHtmlReport, sideBySide } from '../src/report/index.js';

const nasty = `</textarea></pre><script>alert("x")</script><img src=x onerror=alert(1)> & "q" 'a' \u202Eevil\u0007bell\u0000nul\x7f\rcr`;
const rec = (taskId: number, body: string, id: number): TextRecord => ({
  task_name: '', username: 'al&ce', created_at: null, modified_at: null, is_enabled: true, text: body,
  textId: id, taskId, phase: 1, sortPosition: 1, storedTaskName: '', taskTitle: null, userId: 2,
});
const tasks = [{ id: 1, storedName: '1-<b>X</b>', phase: 1, sortPosition: 1, isEnabled: true, title: '<i>title</i>' }];
const snap = (date: string, texts: TextRecord[]): Snapshot => ({ path: `<bk>${date}"'.sql`, date, dateSource: 'file name', user: { id: 2, username: 'al&ce<script>' }, tasks, texts });

describe('the HTML report', () => {
  const h = buildHistory([snap('2026-03-01', [rec(1, `${nasty}\n`.repeat(5), 1)]), snap('2026-03-02', [rec(1, 'short', 1)])], 2);
  const html = renderHtmlReport(h, { restoreCommand: `recover-texts merge --user 'al&ce<script>'`, failed: [{ path: '<x>.sql', message: '<b>bad</b>' }] });

  it('escapes every text, name and path, so no tag from a backup reaches the page', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<\/textarea/i);
    expect(html).not.toMatch(/<b>bad|<b>X|<i>title/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('al&amp;ce&lt;script&gt;');
  });

  it('loads and runs nothing: no src, no external href, a CSP that forbids both', () => {
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    // Any `<` from a backup is escaped, so a real tag with a src would be ours: there is none.
    expect(html).not.toMatch(/<[a-z][^>]*\ssrc=/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^#task-\d+$/);
    expect(html).not.toMatch(/url\(/);
    expect(html).not.toMatch(/@import/);
  });

  it('shows control bytes as visible symbols, and a lone CR too', () => {
    expect(html).toContain('\u2407bell\u2400nul\u2421\u240dcr');
    expect(html).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/);
  });

  it('has a chart per task and the restore date', () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(1);
    expect(html).toContain('Restore from <b>2026-03-01</b>');
  });
});

describe('sideBySide', () => {
  it('pairs changed lines, keeps a little context and folds the rest', () => {
    const before = Array.from({ length: 20 }, (_, k) => `line ${k}`).join('\n') + '\n';
    const after = before.replace('line 10\n', 'line ten\n');
    const rows = sideBySide(before, after);
    expect(rows.filter((r) => r.kind === 'mod')).toEqual([{ kind: 'mod', left: 'line 10', right: 'line ten' }]);
    expect(rows.filter((r) => r.kind === 'skip').map((r) => r.skipped)).toEqual([7, 6]);
    expect(rows.filter((r) => r.kind === 'same')).toHaveLength(6);
  });
  it('ignores line endings (a CRLF is just a line break on the page)', () => {
    expect(sideBySide('a\nb\n', 'a\r\nb\r\n').filter((r) => r.kind !== 'same' && r.kind !== 'skip')).toEqual([]);
  });
  it('esc handles all five', () => expect(esc(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;'));
});
