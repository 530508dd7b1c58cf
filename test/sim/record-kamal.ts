/**
 * Records what a Kamal executable does to a simulated fleet, as the fixture the sim tests compare
 * our engine with: `deploy --skip-push` of v1, v2, v3 and v1 again to 20 hosts; every command each host
 * received (with the stdin it read and the files SCP brought), and the state each host was left in.
 *
 *   KAMAL_BIN=/path/to/kamal node --import tsx test/sim/record-kamal.ts [--boot]
 * With --boot: a first deploy to 6 hosts with boot.limit 2, boot.wait 1 and max_concurrent_starts 2,
 * and when each command and SSH connection started and ended (fixtures/kamal-boot-limit.json).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fleet } from './fleet.js';
import { simRegistry, writeSimProject } from './project.js';
import { hostState } from './state.js';

export const FIXTURE_HOSTS = 20;
export const FIXTURE_BASE = 120;
/** A first deploy, an update, another, and a deploy of a version whose container is still on the hosts (renamed out of the way). */
export const FIXTURE_VERSIONS = ['v1', 'v2', 'v3', 'v1'];
/** The boot scenario: hosts in groups of 2, 1 s apart, at most 2 SSH connections starting at once. */
export const BOOT_HOSTS = 6;
export const BOOT_BASE = 123;
export const BOOT_SCALE = 0.2;
export const BOOT_EXTRA = 'boot:\n  limit: 2\n  wait: 1\nsshkit:\n  max_concurrent_starts: 2\n';

function runKamal(kamal: string, args: string[], cwd: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(kamal, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', resolve);
  });
}

/** Kamal's first deploy with boot.limit, boot.wait and sshkit.max_concurrent_starts: when each command and connection ran. */
async function recordBoot(kamal: string, out: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-record-boot-'));
  const fleet = await Fleet.start({ hosts: BOOT_HOSTS, base: BOOT_BASE, dir: join(dir, 'keys'), registry: simRegistry(), latencyScale: BOOT_SCALE });
  try {
    const proj = writeSimProject(join(dir, 'p'), { hosts: fleet.addresses, keyFile: fleet.keyFile, knownHostsFile: fleet.knownHostsFile, extra: BOOT_EXTRA });
    const code = await runKamal(kamal, ['deploy', '--skip-push', '--version', 'v1'], proj);
    if (code !== 0) throw new Error(`kamal deploy exited ${code}`);
    if (fleet.unmodelled().length) throw new Error(`unmodelled commands: ${JSON.stringify(fleet.unmodelled(), null, 1)}`);
    const ms = (n: number | undefined): number | undefined => (n === undefined ? undefined : Math.round(n));
    const fixture = {
      hosts: fleet.addresses,
      records: fleet.hosts.flatMap((h) => h.records.map((r) => ({ host: r.host, command: r.command.slice(0, 120), start: ms(r.start), end: ms(r.end) }))),
      connections: fleet.connections.map((c) => ({ host: c.host, accepted: ms(c.accepted), ready: ms(c.ready) })),
      peakConcurrentStarts: fleet.peakConcurrentStarts(),
    };
    writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await fleet.stop();
  }
}

async function main(): Promise<void> {
  const kamal = process.env.KAMAL_BIN;
  if (!kamal) throw new Error('set KAMAL_BIN to a Kamal executable');
  const out = join(import.meta.dirname, 'fixtures/kamal-deploy-20.json');
  if (process.argv.includes('--boot')) return recordBoot(kamal, join(import.meta.dirname, 'fixtures/kamal-boot-limit.json'));
  const dir = mkdtempSync(join(tmpdir(), 'sim-record-'));
  const fleet = await Fleet.start({ hosts: FIXTURE_HOSTS, base: FIXTURE_BASE, dir: join(dir, 'keys'), registry: simRegistry(), latencyScale: 0 });
  try {
    const proj = writeSimProject(join(dir, 'p'), { hosts: fleet.addresses, keyFile: fleet.keyFile, knownHostsFile: fleet.knownHostsFile });
    for (const v of FIXTURE_VERSIONS) {
      const code = await runKamal(kamal, ['deploy', '--skip-push', '--version', v], proj);
      if (code !== 0) throw new Error(`kamal deploy ${v} exited ${code}`);
    }
    const version = await new Promise<string>((resolve) => {
      const child = spawn(kamal, ['version'], { cwd: proj });
      let s = '';
      child.stdout.on('data', (d: Buffer) => (s += d.toString()));
      child.on('exit', () => resolve(s.trim()));
    });
    if (fleet.unmodelled().length) throw new Error(`unmodelled commands: ${JSON.stringify(fleet.unmodelled(), null, 1)}`);
    const fixture = {
      kamal: version,
      versions: FIXTURE_VERSIONS,
      deployYml: readFileSync(join(proj, 'config/deploy.yml'), 'utf8'),
      hosts: fleet.hosts.map((h) => ({
        host: h.name,
        records: h.records.map((r) => ({ command: r.command, exitCode: r.exitCode, ...(r.stdin ? { stdin: r.stdin } : {}), ...(r.scp ? { scp: r.scp } : {}) })),
        state: hostState(h),
      })),
    };
    writeFileSync(out, `${JSON.stringify(fixture, null, 1)}\n`);
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await fleet.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
