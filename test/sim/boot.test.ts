/**
 * boot.limit, boot.wait and sshkit.max_concurrent_starts as Kamal applies them, read off the
 * simulated hosts' timeline: the same checks hold for Kamal's recorded deploy (the fixture) and ours.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { Fleet } from './fleet.js';
import { simRegistry, writeSimProject } from './project.js';
import { BOOT_BASE, BOOT_EXTRA, BOOT_HOSTS, BOOT_SCALE } from './record-kamal.js';
import { bootSpans, checkBootGroups, peakOverlap, phaseSpans, type TimedCommand } from './timeline.js';

/** Each host's `docker pull` of the app. */
const PULL: [RegExp, RegExp] = [/^docker pull registry/, /^docker pull registry/];

const kamal = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/kamal-boot-limit.json'), 'utf8')) as {
  hosts: string[];
  records: TimedCommand[];
  peakConcurrentStarts: number;
};

describe('boot.limit 2, boot.wait 1, max_concurrent_starts 2 on 6 hosts', () => {
  it("hold in Kamal's recorded deploy", () => {
    const { violations, gaps } = checkBootGroups(bootSpans(kamal.records, kamal.hosts), 2, 1000);
    expect(violations).toEqual([]);
    expect(gaps).toHaveLength(2);
    expect(kamal.peakConcurrentStarts).toBeLessThanOrEqual(2);
    // max_concurrent_starts bounds connection starts only: once connected, the hosts pull at the same time
    expect(peakOverlap(phaseSpans(kamal.records, kamal.hosts, ...PULL))).toBeGreaterThan(2);
  });

  it("the check finds a timeline that ignores them (Kamal's, read with groups of 3)", () => {
    expect(checkBootGroups(bootSpans(kamal.records, kamal.hosts), 3, 1000).violations).toHaveLength(1);
  });

  describe('our deploy', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sim-boot-'));
      fleet = await Fleet.start({ hosts: BOOT_HOSTS, base: BOOT_BASE, dir: join(dir, 'keys'), registry: simRegistry(), latencyScale: BOOT_SCALE });
      const project = writeSimProject(join(dir, 'p'), {
        hosts: fleet.addresses,
        keyFile: fleet.keyFile,
        knownHostsFile: fleet.knownHostsFile,
        extra: BOOT_EXTRA,
      });
      const r = await runCli(['deploy', '--skip-push', '--version', 'v1'], {
        cwd: project,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, KAMAL_ACTION_KNOWN_HOSTS: fleet.knownHostsFile },
        reporter: new MemoryReporter(),
        out: () => {},
        err: () => {},
      });
      if (r.exitCode !== 0) throw new Error(`deploy failed: ${String((r.error as Error | undefined)?.message ?? r.exitCode)}`);
    }, 120_000);
    afterAll(async () => fleet?.stop());

    it('boots the hosts in groups of 2, each group boot.wait after the one before', () => {
      const records = fleet.hosts.flatMap((h) => h.records);
      expect(checkBootGroups(bootSpans(records, fleet.addresses), 2, 1000).violations).toEqual([]);
      expect(fleet.unmodelled()).toEqual([]);
    });

    it('starts at most 2 SSH connections at once', () => {
      expect(fleet.connections).toHaveLength(BOOT_HOSTS);
      expect(fleet.peakConcurrentStarts()).toBeLessThanOrEqual(2);
    });

    it('runs a step on every host at once, not max_concurrent_starts at a time', () => {
      const records = fleet.hosts.flatMap((h) => h.records);
      expect(peakOverlap(phaseSpans(records, fleet.addresses, ...PULL))).toBeGreaterThan(2);
    });
  });
});
