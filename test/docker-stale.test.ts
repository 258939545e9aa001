/**
 * Which containers a docker-engine run may remove as left behind by a killed
 * run: only ours, from this host name, kernel boot and pid namespace, whose
 * owner process is gone. Two namespaces that share a host name and a Docker
 * engine (containers with --uts=host, CI runners) see different processes
 * under the same pid, and must never remove each other's live container.
 * (Through the engine: test/docker-engine.test.ts, "after kill -9".)
 */
import { describe, expect, it } from 'vitest';
import { isStaleContainer, thisOrigin, type Origin } from '../src/engine/index.js';

const here: Origin = { host: 'build-1', bootId: '6f1c0a4e-0000-4000-8000-000000000001', pidNs: 'pid:[4026531836]' };
const dead = () => false;
const alive = () => true;

function labels(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    'org.recover-texts': '1',
    'org.recover-texts.owner-pid': '4242',
    'org.recover-texts.owner-host': here.host,
    'org.recover-texts.owner-boot-id': here.bootId,
    'org.recover-texts.owner-pid-ns': here.pidNs,
    ...over,
  };
}

describe('isStaleContainer', () => {
  it('ours, from this host, boot and pid namespace, its process gone: stale, running or not', () => {
    expect(isStaleContainer(labels(), true, here, dead)).toBe(true);
    expect(isStaleContainer(labels(), false, here, dead)).toBe(true);
  });

  it('its process alive: not stale', () => {
    expect(isStaleContainer(labels(), true, here, alive)).toBe(false);
  });

  it('another pid namespace sharing the host name and boot: never, even when that pid is gone here', () => {
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-pid-ns': 'pid:[4026532999]' }), true, here, dead)).toBe(false);
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-pid-ns': 'pid:[4026532999]' }), false, here, dead)).toBe(false);
  });

  it('another host name: never', () => {
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-host': 'build-2' }), false, here, dead)).toBe(false);
  });

  it('from before a reboot (another boot id): stale once not running, never while running', () => {
    const before = labels({ 'org.recover-texts.owner-boot-id': '6f1c0a4e-0000-4000-8000-000000000002', 'org.recover-texts.owner-pid-ns': 'pid:[1]' });
    expect(isStaleContainer(before, false, here, alive)).toBe(true);
    expect(isStaleContainer(before, true, here, dead)).toBe(false);
  });

  it('without the boot and namespace labels (an older run), or where this machine cannot tell its own: never', () => {
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-boot-id': undefined }), false, here, dead)).toBe(false);
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-pid-ns': undefined }), false, here, dead)).toBe(false);
    expect(isStaleContainer(labels(), false, { ...here, pidNs: '' }, dead)).toBe(false);
    expect(isStaleContainer(labels(), false, { ...here, bootId: '' }, dead)).toBe(false);
  });

  it('not ours, or no owner pid: never', () => {
    expect(isStaleContainer(labels({ 'org.recover-texts': undefined }), false, here, dead)).toBe(false);
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-pid': 'x' }), false, here, dead)).toBe(false);
    expect(isStaleContainer(labels({ 'org.recover-texts.owner-pid': '0' }), false, here, dead)).toBe(false);
  });

  it('this machine (Linux) knows its boot id and pid namespace', () => {
    const o = thisOrigin();
    expect(o.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.pidNs).toMatch(/^pid:\[\d+\]$/);
  });
});
