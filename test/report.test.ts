/**
 * The report's HTML is safe whatever the texts hold: every string from a
 * backup is escaped, nothing can run or load (no script, no external
 * resource, a CSP that forbids both), and invisible bytes are made visible.
 */
import { describe, expect, it } from 'vitest';
import { buildHistory } from '../src/history/index.js';
import type { Snapshot } from '../src/session/index.js';
import type { TextRecord } from '../src/query/index.js';
import { restoreSteps } from '../src/merge/index.js';
import { esc, renderHtmlReport, sideBySide, type ReportRestore } from '../src/report/index.js';

const nasty = `</textarea></pre><script>alert("x")</script><img src=x onerror=alert(1)> & "q" 'a' \u202Eevil\u0007bell\u0000nul\x7f\rcr`;
const rec = (taskId: number, body: string, id: number): TextRecord => ({
  task_name: '', username: 'al&ce', created_at: null, modified_at: null, is_enabled: true, text: body,
  textId: id, taskId, phase: 1, sortPosition: 1, storedTaskName: '', taskTitle: null, userId: 2,
});
const tasks = [{ id: 1, storedName: '1-<b>X</b>', phase: 1, sortPosition: 1, isEnabled: true, title: '<i>title</i>' }];
const snap = (date: string, texts: TextRecord[]): Snapshot => ({ path: `<bk>${date}"'.sql`, date, dateSource: 'file name', user: { id: 2, username: 'al&ce<script>' }, tasks, texts });

describe('the HTML report', () => {
  const h = buildHistory([snap('2026-03-01', [rec(1, `${nasty}\n`.repeat(5), 1)]), snap('2026-03-02', [rec(1, 'short', 1)])], 2);
  const restore: ReportRestore = {
    steps: restoreSteps('al&ce<script>', '<bk>2026-03-02"\'.sql', ['<bk>2026-03-01"\'.sql']),
    current: { label: '<bk>2026-03-02"\'.sql', snapshot: { time: '2026-03-02', source: '<i>src</i>' } },
    replaced: [],
    kept: [],
    takeKept: null,
    restored: ['1-<b>X</b>'],
    upload: { warnings: [] },
  };
  const html = renderHtmlReport(h, { restore, failed: [{ path: '<x>.sql', message: '<b>bad</b>' }] });

  it('escapes every text, name and path, so no tag from a backup reaches the page', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<\/textarea/i);
    expect(html).not.toMatch(/<b>bad|<b>X|<i>title|<i>src/);
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

describe('the restore banner and task cards', () => {
  const h = buildHistory([snap('2026-03-01', [rec(1, `${nasty}\n`.repeat(5), 1)]), snap('2026-03-02', [rec(1, 'short', 1)])], 2);
  const restore: ReportRestore = {
    steps: restoreSteps('al&ce<script>', '/srv/backups/bk_2026-03-02.sql.gz', ['/srv/backups']),
    current: { label: '/srv/backups/bk_2026-03-02.sql.gz', snapshot: { time: '2026-03-02', source: 'the date in the file name' } },
    replaced: [
      { task: '1-<b>X</b>', currentChars: 5, currentEditedAt: '2026-03-02 09:00', takenChars: 600, takenFrom: '2026-03-01', linesAdded: 5, linesRemoved: 1, summary: 'now 5 chars; replaced by <600>' },
    ],
    kept: [],
    takeKept: null,
    restored: ['1-<b>X</b>'],
    upload: { warnings: [] },
  };
  const html = renderHtmlReport(h, { restore });

  it('a lost text of a task deleted since is not among those the upload restores: said apart, with how to copy it', () => {
    const page = renderHtmlReport(h, { restore: { ...restore, restored: [], upload: { warnings: ['1-<b>X</b> (task id 1): no such task ... copy it by hand: recover-texts export <bk>'] } } });
    expect(page).not.toContain('text is lost</b>');
    expect(page).toContain('<b>1 lost text belongs to a task deleted since</b>: <a href="#task-1">1-&lt;b&gt;X&lt;/b&gt;</a>; the upload cannot carry it:');
    expect(page).toContain('<li>1-&lt;b&gt;X&lt;/b&gt; (task id 1): no such task ... copy it by hand: recover-texts export &lt;bk&gt;</li>');
  });

  it('gives steps: the folder, a short command with relative paths, then where to upload and for whom', () => {
    expect(html).toContain('<pre class="cmd">cd /srv/backups</pre>');
    expect(restore.steps.command).toBe(`recover-texts merge --user 'al&ce<script>' --current bk_2026-03-02.sql.gz --auto . --out al_ce_script_-upload.json`);
    expect(html).toContain(`<pre class="cmd">${esc(restore.steps.command)}</pre>`);
    expect(html).toMatch(/Upload <code>al_ce_script_-upload\.json<\/code> on the race server’s “Upload texts as JSON” admin page for the student <b>al&amp;ce&lt;script&gt;<\/b>/);
    expect(html).not.toContain('/srv/backups/bk_2026-03-02.sql.gz --auto');
  });

  it('says the upload deletes every text, the snapshot time, each replaced text, and how to get a fresh current', () => {
    expect(html).toMatch(/deletes all of al&amp;ce&lt;script&gt;’s texts on the server/);
    expect(html).toContain('a snapshot of <b>2026-03-02</b> (the date in the file name)');
    expect(html).toContain('1-&lt;b&gt;X&lt;/b&gt;</b></a>: now 5 chars; replaced by &lt;600&gt;');
    expect(html).toContain('docker exec server-db-1 pg_dump -U buggy -Fc buggy_race &gt; buggy_race_now.dump');
    // The lost task's card says it too.
    expect(html).toContain('<b>Replaces the current text</b> (snapshot of 2026-03-02): now 5 chars; replaced by &lt;600&gt;.');
  });

  it('a text --auto leaves is named on the banner and its card', () => {
    const kept = renderHtmlReport(h, { restore: { ...restore, replaced: [], kept: [{ taskId: 1, task: '1-<b>X</b>', message: '1-<b>X</b>: NOT restored: written after the loss' }] } });
    expect(kept.match(/1-&lt;b&gt;X&lt;\/b&gt;: NOT restored: written after the loss/g)).toHaveLength(2);
  });
});

describe('report details', () => {
  it('says when the account was deleted, escaped, and offers no restore steps for it', () => {
    const gone = { ...snap('2026-03-03', []), user: null };
    const h = buildHistory([snap('2026-03-01', [rec(1, 'x'.repeat(300), 1)]), snap('2026-03-02', [rec(1, 'x'.repeat(300), 1)]), gone], 2);
    const html = renderHtmlReport(h);
    expect(html).toContain('the account al&amp;ce&lt;script&gt; (user id 2) was deleted between 2026-03-02 and 2026-03-03: it is in no backup from 2026-03-03 on. Its texts are shown up to then');
    expect(html).not.toContain('al&ce<script>');
    expect(html).not.toContain('recover-texts merge');
    const alive = renderHtmlReport(buildHistory([snap('2026-03-01', [rec(1, 'one', 1)]), snap('2026-03-02', [rec(1, 'two', 1)])], 2));
    expect(alive).not.toContain('was deleted between');
  });

  it('hides a default "Task N-NAME" title, which goes stale when the task is renamed', () => {
    const renamed = [{ id: 1, storedName: '3-MULTIPLE', phase: 3, sortPosition: 1, isEnabled: true, title: 'Task 3-MULTI' }];
    const s = (date: string, body: string): Snapshot => ({ path: `bk_${date}.sql`, date, dateSource: 'file name', user: { id: 2, username: 'a' }, tasks: renamed, texts: [rec(1, body, 1)] });
    const html = renderHtmlReport(buildHistory([s('2026-03-01', 'one'), s('2026-03-02', 'two')], 2));
    expect(html).toContain('<h2>3-MULTIPLE</h2>');
    expect(html).not.toContain('Task 3-MULTI');
  });

  it("the chart's axis labels every date when they fit, and every few (always the last) when not", () => {
    const s = (date: string, body: string): Snapshot => ({ path: `bk_${date}.sql`, date, dateSource: 'file name', user: { id: 2, username: 'a' }, tasks, texts: [rec(1, body, 1)] });
    const days = (n: number) => Array.from({ length: n }, (_, k) => `2026-03-${String(k + 1).padStart(2, '0')}`);
    const labels = (n: number) => {
      const html = renderHtmlReport(buildHistory(days(n).map((d, k) => s(d, 'x'.repeat(k + 1))), 2));
      const svg = html.slice(html.indexOf('<svg class="chart"'), html.indexOf('</svg>'));
      return [...svg.matchAll(/class="lbl">(\d\d-\d\d|\d{4})</g)].map((m) => m[1]);
    };
    expect(labels(5)).toEqual(['03-01', '03-02', '03-03', '03-04', '03-05', '2026']);
    const many = labels(30);
    expect(many.length).toBeLessThanOrEqual(9);
    expect(many[0]).toBe('03-01');
    expect(many.at(-2)).toBe('03-30');
  });
});
