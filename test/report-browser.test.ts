/**
 * The HTML report in a real browser: Debian's headless Chromium, driven by
 * playwright-core, with the network cut off. The page renders without
 * errors, requests nothing, runs nothing (the students' <script> stays
 * text), has a chart per task and side-by-side changes with highlights, and
 * the run leaves screenshots in test-output/ for a person to look at.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTmp, removeTmp, ROOT, runCli } from './helpers.js';
import { nightPaths, story } from './story-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(ROOT, 'test-output');
const hasChromium = existsSync(CHROMIUM);

const title = hasChromium ? 'the HTML report in headless Chromium' : `the HTML report in headless Chromium: SKIPPED, no ${CHROMIUM} (apt-get install chromium)`;

describe.skipIf(!hasChromium)(title, () => {
  let tmp: string;
  let profile: string;
  let context: BrowserContext;
  const requests: string[] = [];

  beforeAll(async () => {
    tmp = makeTmp('report');
    profile = mkdtempSync(join(tmpdir(), 'rt-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1300, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Nothing but the report file itself may be fetched.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requests.push(url);
      return url.startsWith('file:') ? route.continue() : route.abort();
    });
  });
  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    removeTmp(tmp);
  });

  it('renders the story: a chart per task, side-by-side changes with highlights, nothing run or fetched; screenshots in test-output/', async () => {
    const html = join(tmp, 'alice.html');
    const r = await runCli(['history', '--user', 'alice', ...nightPaths, '--html', html], { tmp });
    expect(r.code, r.stderr).toBe(0);

    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(pathToFileURL(html).href);
    await page.waitForLoadState('load');

    const alice = story.students.find((s) => s.usernames.at(-1) === 'alice')!;
    const sections = page.locator('section.task');
    await expect.poll(() => sections.count()).toBe(alice.tasks.length);
    // One chart per task, with a point (or a cross for a deleted text) per date that has one.
    expect(await page.locator('section.task svg.chart').count()).toBe(alice.tasks.length);
    expect(await page.locator('section.task svg.chart circle').count()).toBeGreaterThan(alice.tasks.length * 2);

    // Every loss is a lost section whose restore date is the story's.
    for (const loss of alice.losses) {
      const id = `task-${loss.taskId}`;
      const section = page.locator(`#${id}`);
      await expect.poll(() => section.getAttribute('class')).toContain('lost');
      expect(await section.locator('.restore-note').innerText()).toContain(`Restore from ${loss.restoreFrom}`);
      expect(await section.locator('svg.chart text.restore').count()).toBe(1);
    }

    // 3-REPORT: the restore block shows now (20 chars) against the restored text, words highlighted.
    const report = page.locator(`#task-${alice.losses.find((l) => l.task === '3-REPORT')!.taskId}`);
    const block = report.locator('details.c-restore');
    expect(await block.getAttribute('open')).not.toBeNull();
    expect(await block.locator('table.sbs tr.mod').count()).toBeGreaterThan(0);
    expect(await block.locator('table.sbs ins').count()).toBeGreaterThan(0);
    expect(await block.locator('table.sbs del').count()).toBeGreaterThan(0);
    expect(await block.locator('table.sbs tr.ins td.r').count()).toBeGreaterThan(3);
    // Each restored text is shown once: in its restore block, open; the changes before are closed,
    // and the text's arrival as new (nothing → date) is not shown again.
    for (const loss of alice.losses) {
      const section = page.locator(`#task-${loss.taskId}`);
      expect(await section.locator('details[open]').count(), loss.task).toBe(1);
      expect(await section.locator('details.c-restore[open]').count(), loss.task).toBe(1);
      const restored = await section.locator('details.c-restore td.r').allInnerTexts();
      const shownAgain = await section.locator('details.change:not(.c-restore) td.r, details.full pre').allInnerTexts();
      expect(shownAgain.join('\n'), loss.task).not.toContain(restored.join('\n'));
    }

    // The student's HTML is shown as text, never run or parsed.
    expect(await block.innerText()).toContain("<script>alert('pwned')</script>");
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('b:text("bold")').count()).toBe(0);

    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'history-report.png'), fullPage: true });
    await report.screenshot({ path: join(OUT, 'history-report-3-REPORT.png') });
    expect(existsSync(join(OUT, 'history-report.png'))).toBe(true);
    await page.close();
  });
});
