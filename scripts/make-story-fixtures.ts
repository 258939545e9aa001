/**
 * Story-fixture generator: `npm run fixtures:story` (tsx scripts/make-story-fixtures.ts).
 *
 * Replays the story in scripts/fixtures/story.ts (one race server over five nights: edits, a
 * student who wipes most texts, a renamed student, a renamed, a disabled and a deleted task),
 * builds each night's database in a throwaway PostgreSQL 15 cluster and dumps it as that
 * night's backup: gzip plain dumps named buggy_race_bk_YYYYMMDD.sql.gz, and one custom
 * archive whose header carries that night's dump time. Writes what the tool must find,
 * computed from the story alone.
 *
 * Output (replaced wholesale, via a staging dir, only when everything succeeded):
 *   fixtures/story/buggy_race_bk_*.sql.gz, buggy_race_bk_20260312.dump
 *   fixtures/story/live/alice-20260314.json       the live server's "Load texts as JSON" download
 *   fixtures/story/expected.json                  nights, states per task and date, losses, merges
 *   fixtures/story/expected/<date>/<user>.json    each night's export (server format)
 *   fixtures/story/expected/merge/<name>.json     the upload JSON `merge --auto` must write
 *
 * Environment: PG_BIN_DIR (PostgreSQL 15 server binaries), PG_DUMP (pg_dump 15), as for
 * scripts/make-fixtures.ts.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildDatabase, dropDatabase } from "./fixtures/build.js";
import { Cluster } from "./fixtures/cluster.js";
import { PG_DUMP_15, gzip, keepUnchangedArchive, plainDump, runPgDump } from "./fixtures/dump.js";
import { expectedExport, exportTaskName, toJsonFile, type ExportRow } from "./fixtures/expected.js";
import type { DbModel } from "./fixtures/model.js";
import {
  LIVE_DATE,
  NIGHTS,
  SHARP_SHRINK_MIN_CHARS,
  SHARP_SHRINK_RATIO,
  isSharpShrink,
  modelFor,
  replay,
  type Night,
  type StoryLoss,
} from "./fixtures/story.js";
import { exportMinuteUtc, type Micros } from "./fixtures/time.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TARGET = path.join(ROOT, "fixtures", "story");

function log(message: string): void {
  process.stderr.write(`make-story-fixtures: ${message}\n`);
}

const live = { cluster: undefined as Cluster | undefined, staging: undefined as string | undefined };

async function disposeAll(): Promise<void> {
  const cluster = live.cluster;
  live.cluster = undefined;
  if (cluster) await cluster.stop();
  if (live.staging) await fs.rm(live.staging, { recursive: true, force: true });
  live.staging = undefined;
}

async function writeFile(file: string, data: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

/**
 * pg_dump stamps a custom archive with the time it ran. A nightly backup must carry its
 * night's time instead, so the header's struct tm is rewritten in place (pg_backup_archiver.c
 * WriteHead: after "PGDMP", version (3 bytes), intSize, offSize, format, and the compression
 * level (an int, archive < 1.15), come tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year,
 * tm_isdst, each an int: one sign byte, then intSize bytes little-endian).
 */
async function stampArchive(file: string, at: Micros): Promise<void> {
  const buf = await fs.readFile(file);
  if (buf.subarray(0, 5).toString("latin1") !== "PGDMP") throw new Error(`${file} is not a custom archive`);
  const [major, minor] = [buf[5]!, buf[6]!];
  if (major !== 1 || minor >= 15) throw new Error(`${file}: archive ${major}.${minor}; only 1.12-1.14 headers are stamped here`);
  const intSize = buf[8]!;
  let pos = 11 + 1 + intSize; // magic+version(8) intSize offSize format (3), then the compression int
  const d = new Date(Number(at / 1000n));
  const fields = [d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth(), d.getUTCFullYear() - 1900, 0];
  for (const v of fields) {
    buf[pos] = v < 0 ? 1 : 0;
    let x = Math.abs(v);
    for (let i = 0; i < intSize; i++) {
      buf[pos + 1 + i] = x & 0xff;
      x = Math.floor(x / 256);
    }
    pos += 1 + intSize;
  }
  await fs.writeFile(file, buf);
}

async function dumpNight(cluster: Cluster, model: DbModel, night: Night, outDir: string, work: string): Promise<void> {
  if (night.format === "gzip") {
    const plain = await plainDump({ cluster, dbName: model.dbName, outDir: work, restrictKey: model.restrictKey }, `${night.date}.sql`, []);
    await fs.writeFile(path.join(outDir, night.file), gzip(await fs.readFile(plain)));
    await fs.rm(plain);
  } else {
    const file = path.join(outDir, night.file);
    await runPgDump([PG_DUMP_15], [...cluster.connArgs(), "-Fc", "-f", file, model.dbName]);
    await stampArchive(file, night.dumpedAt);
  }
}

/** The live server's JSON download: Flask's jsonify sorts keys and escapes non-ASCII (race-server.md). */
function asFlaskJson(rows: ExportRow[]): string {
  const sorted = rows.map((r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1))));
  return JSON.stringify(sorted).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
}

type State = "new" | "changed" | "unchanged" | "shrunk" | "gone" | "none";

interface Version {
  date: string;
  text: string;
  row: ExportRow;
  storedName: string;
}

/** One student's texts by task id and date, from the nights' models. */
function versionsOf(models: DbModel[], userId: number): Map<number, (Version | null)[]> {
  const byTask = new Map<number, (Version | null)[]>();
  models.forEach((m, k) => {
    for (const t of m.texts.filter((x) => x.userId === userId)) {
      const task = m.tasks.find((x) => x.id === t.taskId)!;
      const list = byTask.get(task.id) ?? models.map(() => null);
      const user = m.users.find((u) => u.id === userId)!;
      list[k] = {
        date: NIGHTS[k]!.date,
        text: t.text,
        storedName: `${task.phase}-${task.name}`,
        row: {
          task_name: `${task.phase}-${task.name}`,
          username: user.username,
          created_at: exportMinuteUtc(t.createdAt),
          modified_at: t.modifiedAt === null ? null : exportMinuteUtc(t.modifiedAt),
          is_enabled: task.isEnabled,
          text: t.text,
        },
      };
      byTask.set(task.id, list);
    }
  });
  return byTask;
}

const len = (s: string) => [...s].length;

function states(list: (Version | null)[]): State[] {
  return list.map((v, k) => {
    const prev = k === 0 ? null : list[k - 1]!;
    if (!v) return prev ? "gone" : "none";
    if (!prev) return "new";
    if (prev.text === v.text) return "unchanged";
    return isSharpShrink(len(prev.text), len(v.text)) ? "shrunk" : "changed";
  });
}

/** The version `merge --auto` restores: the longest before the last loss, on the last date it existed. */
function restoreFrom(list: (Version | null)[], lossAt: number): Version {
  let best: Version | null = null;
  for (let k = 0; k < lossAt; k++) {
    const v = list[k];
    if (v && (!best || len(v.text) >= len(best.text))) best = v;
  }
  if (!best) throw new Error("story: a loss with nothing before it");
  return best;
}

interface MergeCase {
  name: string;
  user: string;
  current: { file: string; kind: "backup" | "json" };
  expected: ExportRow[];
  restored: Array<{ task: string; from: string }>;
  unmatched: Array<{ task: string; taskId: number }>;
}

/**
 * What `merge --auto` must write: the current texts, with every text that was lost (and is
 * still lost now) replaced by the version before the loss, under the task's current stored
 * name and the student's current username; texts of tasks that no longer exist are left out
 * (and named as unmatched).
 */
function expectedMerge(
  models: DbModel[],
  userId: number,
  current: { rows: ExportRow[]; tasks: DbModel["tasks"]; username: string; textTaskIds: number[] },
  losses: StoryLoss[],
): { rows: ExportRow[]; restored: MergeCase["restored"]; unmatched: MergeCase["unmatched"] } {
  const versions = versionsOf(models, userId);
  const keep = current.rows.map((row, k) => ({ row, taskId: current.textTaskIds[k]! }));
  const restored: MergeCase["restored"] = [];
  const unmatched: MergeCase["unmatched"] = [];
  const byTask = new Map<number, StoryLoss>();
  for (const l of losses.filter((x) => x.userId === userId)) byTask.set(l.taskId, l); // the last loss per task
  const out: Array<{ row: ExportRow; taskId: number }> = [];
  for (const [taskId, loss] of byTask) {
    const list = versions.get(taskId)!;
    const at = NIGHTS.findIndex((n) => n.date === loss.lostOn);
    const from = restoreFrom(list, at);
    const nowTask = current.tasks.find((t) => t.id === taskId);
    if (!nowTask) {
      unmatched.push({ task: from.storedName, taskId });
      continue;
    }
    const currentText = keep.find((k) => k.taskId === taskId);
    if (currentText && !isSharpShrink(len(from.text), len(currentText.row.text))) continue; // written back since
    restored.push({ task: `${nowTask.phase}-${nowTask.name}`, from: NIGHTS.find((n) => n.date === from.date)!.toolDate });
    out.push({
      taskId,
      row: { ...from.row, task_name: `${nowTask.phase}-${nowTask.name}`, username: current.username, is_enabled: nowTask.isEnabled },
    });
  }
  const replaced = new Set(out.map((o) => o.taskId));
  for (const k of keep) if (!replaced.has(k.taskId)) out.push(k);
  const taskOf = (id: number) => current.tasks.find((t) => t.id === id)!;
  out.sort((a, b) => taskOf(a.taskId).phase - taskOf(b.taskId).phase || taskOf(a.taskId).sortPosition - taskOf(b.taskId).sortPosition || (a.row.task_name < b.row.task_name ? -1 : 1));
  return { rows: out.map((o) => o.row), restored: restored.sort((a, b) => (a.task < b.task ? -1 : 1)), unmatched };
}

async function main(): Promise<void> {
  const { states: storyStates, losses } = replay();
  await fs.mkdir(path.dirname(TARGET), { recursive: true });
  const staging = await fs.mkdtemp(path.join(path.dirname(TARGET), ".story-staging-"));
  live.staging = staging;
  await fs.chmod(staging, 0o755);
  const work = path.join(staging, ".work");
  await fs.mkdir(work);

  log("starting a throwaway PostgreSQL 15 cluster");
  const cluster = await Cluster.start();
  live.cluster = cluster;

  const models: DbModel[] = [];
  for (const [k, night] of NIGHTS.entries()) {
    const model = modelFor(storyStates[k]!, night);
    models.push(model);
    log(`${night.date}: ${model.texts.length} texts -> ${night.file}`);
    await buildDatabase(cluster, model);
    await dumpNight(cluster, model, night, staging, work);
    await dropDatabase(cluster, model.dbName);
    for (const user of model.users) {
      await writeFile(path.join(staging, "expected", night.date, `${user.username}.json`), toJsonFile(expectedExport(model, user)));
    }
  }
  live.cluster = undefined;
  await cluster.stop();
  await fs.rm(work, { recursive: true });

  // The live server on the day after the last backup: alice's download.
  const liveModel = modelFor(storyStates[NIGHTS.length]!, { ...NIGHTS.at(-1)!, date: LIVE_DATE });
  const alice = liveModel.users.find((u) => u.username === "alice")!;
  const liveRows = expectedExport(liveModel, alice);
  const liveFile = `live/alice-${LIVE_DATE.replace(/-/g, "")}.json`;
  await writeFile(path.join(staging, liveFile), asFlaskJson(liveRows));

  // Per student: task states by date, the losses, and the expected merges.
  const last = models.at(-1)!;
  const students = last.users.filter((u) => u.isStudent).map((u) => {
    const versions = versionsOf(models, u.id);
    const tasks = [...versions.entries()].map(([taskId, list]) => {
      const names = models.map((m) => {
        const t = m.tasks.find((x) => x.id === taskId);
        return t ? `${t.phase}-${t.name}` : null;
      });
      return {
        taskId,
        names,
        isEnabled: models.map((m) => m.tasks.find((x) => x.id === taskId)?.isEnabled ?? null),
        lengths: list.map((v) => (v ? len(v.text) : null)),
        states: states(list),
      };
    });
    tasks.sort((a, b) => a.taskId - b.taskId);
    return {
      userId: u.id,
      usernames: models.map((m) => m.users.find((x) => x.id === u.id)!.username),
      tasks,
      losses: losses
        .filter((l) => l.userId === u.id)
        .map((l) => {
          const list = versions.get(l.taskId)!;
          const from = restoreFrom(list, NIGHTS.findIndex((n) => n.date === l.lostOn));
          return { ...l, user: undefined, restoreFrom: NIGHTS.find((n) => n.date === from.date)!.toolDate, restoreLength: len(from.text) };
        }),
    };
  });

  const merges: MergeCase[] = [];
  const currentOf = (m: DbModel, userId: number) => {
    const user = m.users.find((x) => x.id === userId)!;
    const rows = expectedExport(m, user);
    const texts = m.texts.filter((t) => t.userId === userId);
    // expectedExport's order, then the same order for task ids
    const ordered = texts
      .map((t) => ({ t, task: m.tasks.find((x) => x.id === t.taskId)! }))
      .sort((a, b) => a.task.phase - b.task.phase || a.task.sortPosition - b.task.sortPosition || (exportTaskName(a.task) < exportTaskName(b.task) ? -1 : 1) || a.t.id - b.t.id);
    return { rows: rows.map((r, k) => ({ ...r, task_name: `${ordered[k]!.task.phase}-${ordered[k]!.task.name}` })), tasks: m.tasks, username: user.username, textTaskIds: ordered.map((o) => o.task.id) };
  };
  for (const [name, userId, currentModel, current] of [
    ["alice-auto", alice.id, last, { file: NIGHTS.at(-1)!.file, kind: "backup" as const }],
    ["alice-auto-live", alice.id, liveModel, { file: liveFile, kind: "json" as const }],
    ["benjamin-auto", 3, last, { file: NIGHTS.at(-1)!.file, kind: "backup" as const }],
  ] as const) {
    const c = currentOf(currentModel, userId);
    const { rows, restored, unmatched } = expectedMerge(models, userId, c, losses);
    await writeFile(path.join(staging, "expected", "merge", `${name}.json`), toJsonFile(rows));
    merges.push({ name, user: c.username, current, expected: rows, restored, unmatched });
  }

  const manifest = {
    generatedBy: "scripts/make-story-fixtures.ts",
    description: "One race server over five nights; see scripts/fixtures/story.ts for the story.",
    sharpShrink: { ratio: SHARP_SHRINK_RATIO, minChars: SHARP_SHRINK_MIN_CHARS },
    nights: NIGHTS.map((n) => ({ file: n.file, format: n.format, date: n.date, toolDate: n.toolDate })),
    live: { file: liveFile, date: LIVE_DATE, user: "alice" },
    tasks: models.map((m, k) => ({ date: NIGHTS[k]!.date, tasks: m.tasks.map((t) => ({ id: t.id, stored: `${t.phase}-${t.name}`, isEnabled: t.isEnabled })).sort((a, b) => a.id - b.id) })),
    students,
    merges: merges.map((m) => ({ ...m, expected: `expected/merge/${m.name}.json` })),
    secrets: last.secrets,
  };
  await writeFile(path.join(staging, "expected.json"), JSON.stringify(manifest, null, 2) + "\n");

  for (const night of NIGHTS.filter((n) => n.format === "custom")) {
    if (await keepUnchangedArchive(path.join(staging, night.file), path.join(TARGET, night.file))) log(`kept the previous ${night.file} (same content)`);
  }

  const old = `${TARGET}.old-${process.pid}`;
  const had = await fs.rename(TARGET, old).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
      return false;
    },
  );
  await fs.rename(staging, TARGET);
  live.staging = undefined;
  if (had) await fs.rm(old, { recursive: true, force: true });
  log(`done: ${path.relative(ROOT, TARGET)} written`);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void disposeAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

main().catch(async (err: unknown) => {
  process.stderr.write(`make-story-fixtures: error: ${err instanceof Error ? err.message : String(err)}\n`);
  await disposeAll();
  process.exitCode = 1;
});
