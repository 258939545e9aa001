/**
 * What `history` offers for its lost texts: the `merge --auto` it suggests
 * (against the newest backup as the current data), worked out here so the
 * terminal and the report can say what that upload would replace and keep.
 */
import type { History } from '../history/index.js';
import type { Snapshot } from '../session/index.js';
import { currentFromSnapshot } from './current.js';
import { planMerge, resolveChoices, type KeptText, type MergePlan } from './plan.js';
import { replacements, snapshotOf, type Replacement, type CurrentSnapshot } from './safety.js';
import { restoreSteps, type RestoreSteps } from './steps.js';

export interface RestorePlan {
  steps: RestoreSteps;
  current: { label: string; snapshot: CurrentSnapshot };
  replaced: Replacement[];
  /** Lost texts --auto leaves (written again after the loss). */
  kept: KeptText[];
  /** With kept texts: the same steps, the command taking their old versions too (--take TASK@DATE each). */
  takeKept: RestoreSteps | null;
  /** The lost texts the command restores, by task name: the lost ones, less the kept and those of tasks deleted since. */
  restored: string[];
  /** The upload the command writes (merge --auto against the newest backup). */
  upload: MergePlan;
}

/** Of the options passed on (cli's passedOn), those an export of a single backup needs too: all but the date range. */
export function withoutRange(options: readonly string[]): string[] {
  const range = ['--since', '--until'];
  return options.filter((o, k) => !range.includes(o) && !range.includes(options[k - 1]!));
}

/** `backups`: the command's arguments as given (files or folders), `options` to pass on, `out` the upload's path; snapshots oldest first. */
export function restorePlan(h: History, snapshots: readonly Snapshot[], backups: readonly string[], options: readonly string[] = [], out?: string): RestorePlan {
  const newest = snapshots.at(-1)!;
  const current = currentFromSnapshot(newest.path, newest, h);
  const { choices, kept } = resolveChoices(h, current, [], true);
  const plan = planMerge(h, current, choices, newest.tasks, withoutRange(options));
  const takes = kept.flatMap((k) => ['--take', k.take]);
  return {
    steps: restoreSteps(h.user.username, newest.path, backups, options, out),
    takeKept: kept.length ? restoreSteps(h.user.username, newest.path, backups, [...options, ...takes], out) : null,
    // A lost text of a task the newest backup no longer has cannot be uploaded (plan.warnings says so and how to copy it).
    restored: h.tasks.filter((t) => t.status === 'lost' && !kept.some((k) => k.taskId === t.taskId) && newest.tasks.some((x) => x.id === t.taskId)).map((t) => t.name),
    current: { label: current.label, snapshot: snapshotOf(current) },
    replaced: replacements(plan),
    kept,
    upload: plan,
  };
}
