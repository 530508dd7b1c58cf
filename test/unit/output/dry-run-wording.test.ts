/**
 * A dry run boots nothing and checks no health: what it says never claims a booted or healthy
 * container, and it records no previous version (a capture in a dry run answers a placeholder).
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../cli/helpers.js';
import { summaryMarkdown } from '../../../src/action/summary.js';
import { buildReport } from '../../../src/action/report.js';

describe('a dry run says what it would do', () => {
  it('deploy: no message says booted or healthy; the barrier is said as what would wait', async () => {
    const run = await plan(['deploy', '--version', 'abc']);
    expect(run.exitCode).toBe(0);
    const said = run.reporter.messages.map((m) => m.message);
    expect(said.filter((m) => /booted|healthy/i.test(m))).toEqual([]);
    expect(said).toContain('Would wait for the first web container before starting job on 10.0.0.3');
    expect(said).toContain('Start container with version abc (or reboot if already running)...');
  });

  it('records no previous version and the summary shows planned hosts, not booted ones', async () => {
    const run = await plan(['deploy', '--version', 'abc']);
    const k = run.result.kamal!;
    const boots = k.boots ?? [];
    expect(boots.length).toBeGreaterThan(0);
    expect(boots.map((b) => b.previousVersion)).toEqual(boots.map(() => undefined));
    const report = buildReport({ argv: ['deploy', '--dry-run'], kamal: k, cancelled: false, startedAt: 0, finishedAt: 1000 });
    expect(report.dryRun).toBe(true);
    expect(report.previousVersion).toBeUndefined();
    const md = summaryMarkdown(report);
    expect(md).not.toMatch(/booted|healthy|<current-version>/);
    expect(md).toContain('| 10.0.0.1 | web | – | `abc` | 📝 planned |');
  });
});
