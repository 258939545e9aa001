/**
 * Test-fixture generator for recover-texts: `npm run fixtures` (tsx scripts/make-fixtures.ts).
 *
 * Starts a throwaway PostgreSQL 15 cluster, builds race-server-like databases from the data
 * model in scripts/fixtures/, dumps each with pg_dump in every format real backups come in,
 * and writes the expected per-student export JSON computed from the model (not from
 * PostgreSQL). See fixtures/README.md for what each fixture is and what is nasty in it.
 *
 * Output (replaced wholesale, via a staging dir, only when everything succeeded):
 *   fixtures/generated/   <db>/<dump files>, <db>/expected/<username>.json, manifest.json
 *   fixtures/demo/        buggy_race_bk_20260315.sql.gz, expected/, manifest.json
 *
 * Environment:
 *   PG_DUMP_17     a pg_dump 17 command (a path, or words such as
 *                  `chroot /work/chroots/trixie /usr/lib/postgresql/17/bin/pg_dump`, which
 *                  `scripts/pg-chroot.sh 17` builds) for the archive version 1.16 fixtures
 *                  (scripts/fixtures/archives.ts). Required once those fixtures exist;
 *                  `PG_DUMP_17=none` drops them.
 *   PG_RESTORE_17  its pg_restore (default: PG_DUMP_17 with pg_restore for pg_dump)
 *   PG_DUMP_18, PG_RESTORE_18
 *                  the same for pg_dump 18 (`scripts/pg-chroot.sh 18`: Debian sid's
 *                  postgresql-client-18), which makes the pg18-* archives
 *   PG_BIN_DIR     PostgreSQL 15 server binaries (default /usr/lib/postgresql/15/bin)
 *   PG_DUMP        pg_dump 15 (default /usr/bin/pg_dump), PG_RESTORE pg_restore 15
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildDatabase, dropDatabase } from "./fixtures/build.js";
import { Cluster } from "./fixtures/cluster.js";
import { ARCHIVES, archivesFor, checkSameRows, makeArchive } from "./fixtures/archives.js";
import {
  PG_DUMP_15,
  gzip,
  keepUnchangedArchive,
  parseCommand,
  pgDumpVersion,
  plainDump,
  toCrlf,
  type DumpEntry,
  type DumpPlan,
} from "./fixtures/dump.js";
import { expectedExport, newestOf, toJsonFile, zoneDirName } from "./fixtures/expected.js";
import { HOSTILE_TRACES, makeHostile } from "./fixtures/hostile.js";
import { bigtextModel, demoModel, mainModels, noSettingsModel, type DbModel } from "./fixtures/model.js";
import { isTimestamptz, textsTable } from "./fixtures/schema.js";
import { exportMinuteUtc } from "./fixtures/time.js";
import { newerTools, pg15Tools, restoreOutput, type PgTools } from "./fixtures/tools.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURES = path.join(ROOT, "fixtures");
const TZ_VARIANTS = ["America/New_York"];
/** A zone with a half-hour offset, for one extra plain dump of `current`. */
const OFFSET_ZONE = "Asia/Kolkata";

interface ManifestDb {
  name: string;
  dbName: string;
  description: string;
  schema: "current" | "legacy" | "mid2023";
  alembicVersion: string;
  textsTable: "tasktexts" | "notes";
  timestampKind: "timestamptz" | "naive";
  backupAt: string;
  dumps: DumpEntry[];
  expectedTimeZones: string[];
  students: Array<{
    username: string;
    userId: number;
    extUsername: string | null;
    firstName: string | null;
    lastName: string | null;
    isStudent: boolean;
    isActive: boolean;
    textCount: number;
    newest: string | null;
  }>;
  taskCount: number;
  textCount: number;
  cases: DbModel["cases"];
  secrets: string[];
  hostile?: typeof HOSTILE_TRACES & { sameExpectedAs: string };
}

interface ManifestFile {
  databases: ManifestDb[];
}

function log(message: string): void {
  process.stderr.write(`make-fixtures: ${message}\n`);
}

// ---------------------------------------------------------------------------------------
// Resources: one place owns everything live, so failures and signals clean up the same way.
// ---------------------------------------------------------------------------------------
const live = {
  cluster: undefined as Cluster | undefined,
  /** Temp dirs to remove: the staging dirs until swapped in, and pg_dump 17's scratch dir. */
  staging: [] as string[],
};

async function disposeAll(): Promise<void> {
  const cluster = live.cluster;
  live.cluster = undefined;
  if (cluster) await cluster.stop();
  for (const dir of live.staging.splice(0)) await fs.rm(dir, { recursive: true, force: true });
}

function disposeAllSync(): void {
  live.cluster?.stopSync();
  live.cluster = undefined;
}

// ---------------------------------------------------------------------------------------

async function writeFile(file: string, data: string | Buffer): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}

/** Same keys in the same order for every dump entry, so the manifest reads as a table. */
function normalizeDump(e: DumpEntry): DumpEntry {
  const out: DumpEntry = { file: e.file, format: e.format, style: e.style, dataOnly: e.dataOnly, lineEnding: e.lineEnding, pgDump: e.pgDump };
  if (e.piped !== undefined) out.piped = e.piped;
  if (e.archiveVersion !== undefined) out.archiveVersion = e.archiveVersion;
  if (e.compression !== undefined) out.compression = e.compression;
  if (e.offsets !== undefined) out.offsets = e.offsets;
  if (e.pgDumpArgs !== undefined) out.pgDumpArgs = e.pgDumpArgs;
  if (e.sessionTimeZone !== undefined) out.sessionTimeZone = e.sessionTimeZone;
  if (e.note !== undefined) out.note = e.note;
  return out;
}

function manifestEntry(model: DbModel, dumps: DumpEntry[], zones: string[]): ManifestDb {
  const f = model.flavour;
  return {
    name: model.name,
    dbName: model.dbName,
    description: model.description,
    schema: f.schema,
    alembicVersion: f.alembicVersion,
    textsTable: textsTable(f),
    timestampKind: isTimestamptz(f) ? "timestamptz" : "naive",
    backupAt: exportMinuteUtc(model.backupAt),
    dumps: dumps.map(normalizeDump),
    expectedTimeZones: zones,
    students: model.users
      .slice()
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
      .map((u) => ({
        username: u.username,
        userId: u.id,
        extUsername: u.extUsername,
        firstName: u.firstName,
        lastName: u.lastName,
        isStudent: u.isStudent,
        isActive: u.isActive,
        textCount: model.texts.filter((t) => t.userId === u.id).length,
        newest: newestOf(model, u),
      })),
    taskCount: model.tasks.length,
    textCount: model.texts.length,
    cases: model.cases,
    secrets: model.secrets,
  };
}

/** expected/<username>.json for every user (`[]` for those without texts), plus tz variants. */
async function writeExpected(model: DbModel, dir: string, zones: string[]): Promise<void> {
  for (const user of model.users) {
    await writeFile(path.join(dir, "expected", `${user.username}.json`), toJsonFile(expectedExport(model, user)));
    for (const zone of zones) {
      await writeFile(
        path.join(dir, "expected", "tz", zoneDirName(zone), `${user.username}.json`),
        toJsonFile(expectedExport(model, user, zone)),
      );
    }
  }
}

interface DumpOptions {
  full: boolean;
  /** pg_dump 15, and 17 when PG_DUMP_17 is given: they make the archives. */
  tools: PgTools[];
}

async function dumpAll(cluster: Cluster, model: DbModel, outDir: string, opts: DumpOptions): Promise<DumpEntry[]> {
  await fs.mkdir(outDir, { recursive: true });
  const plan: DumpPlan = { cluster, dbName: model.dbName, outDir, restrictKey: model.restrictKey };
  const v15 = pgDumpVersion([PG_DUMP_15]);
  const entries: DumpEntry[] = [];
  const base = { style: "copy" as const, dataOnly: false, lineEnding: "lf" as const, pgDump: v15 };

  const plainFile = await plainDump(plan, "plain.sql", []);
  const plain = await fs.readFile(plainFile);
  if (opts.full) entries.push({ ...base, file: "plain.sql", format: "plain" });
  await fs.writeFile(path.join(outDir, "plain.sql.gz"), gzip(plain));
  entries.push({ ...base, file: "plain.sql.gz", format: "gzip" });
  if (!opts.full) await fs.rm(plainFile);

  if (opts.full) {
    await plainDump(plan, "inserts.sql", ["--inserts"]);
    entries.push({ ...base, file: "inserts.sql", format: "plain", style: "inserts" });
    await plainDump(plan, "column-inserts.sql", ["--column-inserts"]);
    entries.push({ ...base, file: "column-inserts.sql", format: "plain", style: "column-inserts" });
    await plainDump(plan, "data-only.sql", ["--data-only"]);
    entries.push({ ...base, file: "data-only.sql", format: "plain", dataOnly: true, note: "no CREATE TABLE: column types must come from elsewhere (or be assumed)" });
    await plainDump(plan, "data-only-inserts.sql", ["--data-only", "--column-inserts"]);
    entries.push({ ...base, file: "data-only-inserts.sql", format: "plain", style: "column-inserts", dataOnly: true });
    await fs.writeFile(path.join(outDir, "crlf.sql.gz"), gzip(toCrlf(plain)));
    entries.push({ ...base, file: "crlf.sql.gz", format: "gzip", lineEnding: "crlf", note: "plain dump as `docker exec -t ... pg_dump | gzip` makes it: every LF is CRLF" });
    if (isTimestamptz(model.flavour)) {
      await plainDump(plan, "plain-tz-kolkata.sql", [], [PG_DUMP_15], { PGTZ: OFFSET_ZONE });
      entries.push({ ...base, file: "plain-tz-kolkata.sql", format: "plain", sessionTimeZone: OFFSET_ZONE, note: "pg_dump session TimeZone Asia/Kolkata: timestamptz values are written with +05:30; the export is still UTC" });
    }
  }

  for (const tools of opts.tools) {
    for (const spec of archivesFor(model.name, tools.major)) {
      entries.push(await makeArchive(tools, spec, cluster, model.dbName, outDir));
    }
  }
  const checks = await checkSameRows(outDir, entries, opts.tools);
  log(`${model.name}: every archive holds the same rows (${checks} pg_restore reads compared)`);
  return entries;
}

async function processModel(cluster: Cluster, model: DbModel, outDir: string, opts: DumpOptions, zones: string[]): Promise<ManifestDb> {
  log(`building ${model.name} (database ${model.dbName}: ${model.users.length} users, ${model.tasks.length} tasks, ${model.texts.length} texts)`);
  await buildDatabase(cluster, model);
  log(`dumping ${model.name}`);
  const dumps = await dumpAll(cluster, model, outDir, opts);
  await dropDatabase(cluster, model.dbName);
  await writeExpected(model, outDir, zones);
  return manifestEntry(model, dumps, zones);
}

/** Whether the current manifest lists archives made by pg_dump `major` (see ARCHIVES). */
async function hasArchivesOf(major: 17 | 18): Promise<boolean> {
  const files = new Set(ARCHIVES.filter((a) => a.pgDump === major).map((a) => a.file));
  const made = new RegExp(` ${major}\\.`);
  try {
    const manifest = JSON.parse(await fs.readFile(path.join(FIXTURES, "generated", "manifest.json"), "utf8")) as ManifestFile;
    return manifest.databases.some((db) => db.dumps.some((d) => files.has(d.file) || made.test(d.pgDump)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** pg_dump 17's or 18's tools from PG_DUMP_<major>; refuses to run without them once their archives are checked in. */
async function newerToolsFromEnv(major: 17 | 18, suite: string): Promise<PgTools | undefined> {
  const spec = process.env[`PG_DUMP_${major}`]?.trim();
  if (spec && spec !== "none") {
    const tools = await newerTools(major, parseCommand(spec), process.env[`PG_RESTORE_${major}`]);
    live.staging.push(tools.scratch.host);
    log(`pg_dump ${major}: ${tools.dump.join(" ")} (${tools.version})`);
    return tools;
  }
  if (!spec && (await hasArchivesOf(major))) {
    throw new Error(
      `the checked-in fixtures include archives from pg_dump ${major}: set PG_DUMP_${major} to a pg_dump ${major} ` +
        `(scripts/pg-chroot.sh ${major} builds one: PG_DUMP_${major}='chroot /work/chroots/${suite} /usr/lib/postgresql/${major}/bin/pg_dump'), ` +
        `or PG_DUMP_${major}=none to drop them`,
    );
  }
  return undefined;
}

async function replaceDir(staging: string, target: string): Promise<void> {
  const old = `${target}.old-${process.pid}`;
  await fs.rm(old, { recursive: true, force: true });
  let hadOld = false;
  try {
    await fs.rename(target, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await fs.rename(staging, target);
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await fs.mkdir(FIXTURES, { recursive: true });
  const tools = [pg15Tools()];
  for (const [major, suite] of [[17, "trixie"], [18, "sid"]] as const) {
    const newer = await newerToolsFromEnv(major, suite);
    if (newer) tools.push(newer);
  }
  const generated = await fs.mkdtemp(path.join(FIXTURES, ".generated-staging-"));
  const demo = await fs.mkdtemp(path.join(FIXTURES, ".demo-staging-"));
  live.staging.push(generated, demo);
  for (const dir of [generated, demo]) await fs.chmod(dir, 0o755); // mkdtemp makes 0700

  log("starting a throwaway PostgreSQL 15 cluster");
  const cluster = await Cluster.start();
  live.cluster = cluster;
  log(`cluster listening on ${cluster.host}:${cluster.port} and ${cluster.socketDir}`);

  const databases: ManifestDb[] = [];
  for (const model of mainModels()) {
    const zones = isTimestamptz(model.flavour) ? TZ_VARIANTS : [];
    const dir = path.join(generated, model.name);
    const entry = await processModel(cluster, model, dir, { full: true, tools }, zones);
    databases.push(entry);

    if (model.name === "current") {
      log("writing the hostile dump");
      const plain = await fs.readFile(path.join(dir, "plain.sql"), "utf8");
      const hostileDir = path.join(generated, "hostile");
      await writeFile(path.join(hostileDir, "plain.sql"), makeHostile(plain));
      await writeExpected(model, hostileDir, []);
      databases.push({
        ...entry,
        name: "hostile",
        description: "The `current` plain dump with hostile statements spliced in (see `hostile`): nothing but the wanted tables' definitions and rows may run; the export must equal current's.",
        dumps: [{ ...(entry.dumps[0] as DumpEntry), file: "plain.sql", format: "plain", note: "current's plain.sql plus hostile statements" }],
        expectedTimeZones: [],
        hostile: { ...HOSTILE_TRACES, sameExpectedAs: "current" },
      });
    }
  }

  const empty = noSettingsModel();
  databases.push(await processModel(cluster, empty, path.join(generated, empty.name), { full: false, tools }, []));

  const big = bigtextModel();
  databases.push(await processModel(cluster, big, path.join(generated, big.name), { full: false, tools }, []));

  const demoDb = demoModel();
  log(`building demo (database ${demoDb.dbName})`);
  await buildDatabase(cluster, demoDb);
  const demoFile = "buggy_race_bk_20260315.sql.gz";
  const plainPath = await plainDump(
    { cluster, dbName: demoDb.dbName, outDir: demo, restrictKey: demoDb.restrictKey },
    "demo-plain.sql",
    [],
  );
  await fs.writeFile(path.join(demo, demoFile), gzip(await fs.readFile(plainPath)));
  await fs.rm(plainPath);
  await dropDatabase(cluster, demoDb.dbName);
  await writeExpected(demoDb, demo, []);
  const demoEntry = manifestEntry(
    demoDb,
    [{ file: demoFile, format: "gzip", style: "copy", dataOnly: false, lineEnding: "lf", pgDump: pgDumpVersion([PG_DUMP_15]) }],
    [],
  );

  await writeFile(path.join(generated, "manifest.json"), JSON.stringify({ generatedBy: "scripts/make-fixtures.ts", databases }, null, 2) + "\n");
  await writeFile(path.join(demo, "manifest.json"), JSON.stringify({ generatedBy: "scripts/make-fixtures.ts", databases: [demoEntry] }, null, 2) + "\n");

  let kept = 0;
  for (const db of databases) {
    for (const d of db.dumps) {
      if (d.format !== "custom" && d.format !== "tar" && d.format !== "directory") continue;
      const rel = path.join(db.name, d.file);
      const reader = tools.find((t) => t.archiveVersion === d.archiveVersion);
      if (!reader) throw new Error(`${rel}: no pg_restore for archive version ${d.archiveVersion}`);
      const restore = (archive: string) => restoreOutput(reader, archive);
      if (await keepUnchangedArchive(path.join(generated, rel), path.join(FIXTURES, "generated", rel), restore)) kept++;
    }
  }
  if (kept) log(`kept ${kept} previous archive file(s) whose content is unchanged (only their dump time differed)`);

  // Stop the cluster, then swap the staging dirs into place (still removed if a swap fails).
  live.cluster = undefined;
  await cluster.stop();
  await replaceDir(generated, path.join(FIXTURES, "generated"));
  await replaceDir(demo, path.join(FIXTURES, "demo"));
  // The staging dirs are now the fixtures; what is left (pg_dump 17's scratch dir) goes in disposeAll.
  live.staging = live.staging.filter((dir) => dir !== generated && dir !== demo);
  log("done: fixtures/generated and fixtures/demo written");
}

let exiting = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    log(`${signal}: cleaning up`);
    disposeAll()
      .catch(() => disposeAllSync())
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}
process.on("exit", disposeAllSync);

main()
  .then(() => disposeAll())
  .catch(async (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`make-fixtures: error: ${message}\n`);
    await disposeAll().catch(() => disposeAllSync());
    process.exitCode = 1;
  });
