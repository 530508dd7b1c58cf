// Side-by-side deploys on the lab: kamal-action and, when given, a Kamal executable, against the same hosts
// with the same config/deploy.yml, taking turns. Both run as a user runs them (a fresh process per deploy,
// `deploy --version V --skip-push`, images pushed beforehand), so both wall times include the tool's own
// start-up. Each timed pair is one deploy by each tool; every deploy switches the hosts to the other
// version, so each one does the same work (start the new container, proxy deploy, stop the old one, prune).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_ROOT, type LabHost, type LabInfo } from '../test/lab/lab.js';
import { makeProject, onHost, proxyRunYaml, resetHosts } from '../test/e2e/helpers.js';
import { runCli } from '../src/cli/run.js';
import { MemoryReporter } from '../src/engine/reporter.js';
import type { Runner } from '../src/exec/types.js';
import { display, type Command } from '../src/shell.js';

export interface VersusOptions {
  info: LabInfo;
  counts: number[];
  repeats: number;
  /** Path of a Kamal executable; without it only kamal-action runs. */
  kamal?: string;
  trace: boolean;
  out: (s: string) => void;
}

interface Timed {
  wallMs: number;
  /** CPU time (user + system) of the process and its children, when /usr/bin/time is there to measure it. */
  cpuMs?: number;
}

/** Commands and connections of one deploy, per host. */
interface Counts {
  commandsPerHost: number;
  connectionsPerHost: number;
}

interface Row {
  hosts: number;
  ours: Timed[];
  kamal: Timed[];
  oursCounts: Counts;
  kamalCounts?: Counts;
  /** Time our instrumented deploy spent in `kamal-proxy deploy` (the health check) on the slowest host. */
  healthMs: number;
  /**
   * The work no deploy of this config avoids, on the slowest host of our instrumented deploy: `docker run`
   * of the new container, `kamal-proxy deploy` (its health check) and `docker stop` of the old one.
   */
  essentialMs: number;
  /** Our instrumented deploy's commands, for --trace. */
  trace: { host: string; startMs: number; ms: number; command: string }[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const TIME = '/usr/bin/time';

/** The command that starts kamal-action's CLI: the bundle users run, or the sources when it was never built. */
function oursCommand(): string[] {
  const bundle = join(LAB_ROOT, 'dist/cli/index.js');
  if (existsSync(bundle)) return [process.execPath, join(LAB_ROOT, 'bin/kamal-action')];
  return [process.execPath, '--import', 'tsx', join(LAB_ROOT, 'src/cli/main.ts')];
}

function env(info: LabInfo): Record<string, string | undefined> {
  return {
    ...process.env,
    LAB_REGISTRY_PASSWORD: info.registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: info.ssh.knownHosts,
  };
}

/** Runs a command to its end; wall time from spawn to exit, CPU from /usr/bin/time when present. */
async function timedRun(argv: string[], cwd: string, e: Record<string, string | undefined>): Promise<Timed & { output: string }> {
  const cpuFile = existsSync(TIME) ? join(mkdtempSync(join(tmpdir(), 'bench-time-')), 'cpu') : undefined;
  const full = cpuFile ? [TIME, '-q', '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
  const started = performance.now();
  let output = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { cwd, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = performance.now() - started;
  let cpuMs: number | undefined;
  if (cpuFile) {
    const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user! + sys!) * 1000;
    rmSync(join(cpuFile, '..'), { recursive: true, force: true });
  }
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}:\n${output.split('\n').slice(-15).join('\n')}`);
  return { wallMs, cpuMs, output };
}

function oursDeploy(dir: string, info: LabInfo, version: string): Promise<Timed & { output: string }> {
  return timedRun([...oursCommand(), 'deploy', '--version', version, '--skip-push'], dir, env(info));
}

function kamalDeploy(kamal: string, dir: string, info: LabInfo, version: string, verbose = false): Promise<Timed & { output: string }> {
  return timedRun([kamal, 'deploy', '--version', version, '--skip-push', ...(verbose ? ['-v'] : [])], dir, env(info));
}

/** SSH logins each host's sshd has logged so far (its log survives between deploys). */
function sshLogins(hosts: LabHost[]): number[] {
  return hosts.map((h) => Number(onHost(h, "grep -c 'Accepted publickey' /var/log/sshd.log || true")) || 0);
}

/** Our deploy in this process, with every command counted and timed (not one of the timed runs). */
async function oursInstrumented(
  dir: string,
  info: LabInfo,
  version: string,
  hosts: LabHost[],
): Promise<Pick<Row, 'oursCounts' | 'healthMs' | 'essentialMs' | 'trace'>> {
  const ips = hosts.map((h) => h.ip);
  const perHost = new Map<string, number>();
  const health = new Map<string, number>();
  const trace: Row['trace'] = [];
  const before = sshLogins(hosts);
  const started = performance.now();
  const r = await runCli(['deploy', '--version', version, '--skip-push'], {
    cwd: dir,
    env: env(info),
    reporter: new MemoryReporter(),
    onContext: (k) => {
      const runner = k.runner as Runner;
      const run = runner.run.bind(runner);
      runner.run = async (host: string, command: Command, opts) => {
        const t = performance.now();
        try {
          return await run(host, command, opts);
        } finally {
          const shown = display(command);
          trace.push({ host, startMs: t - started, ms: performance.now() - t, command: shown });
          perHost.set(host, (perHost.get(host) ?? 0) + 1);
          if (/kamal-proxy deploy /.test(shown)) health.set(host, (health.get(host) ?? 0) + performance.now() - t);
        }
      };
    },
  });
  if (r.exitCode !== 0) throw new Error(`deploy ${version} failed: ${String((r.error as Error | undefined)?.message ?? r.exitCode)}`);
  const after = sshLogins(hosts);
  const connections = after.reduce((a, n, i) => a + n - before[i]!, 0);
  return {
    oursCounts: {
      commandsPerHost: ips.reduce((a, h) => a + (perHost.get(h) ?? 0), 0) / hosts.length,
      connectionsPerHost: connections / hosts.length,
    },
    healthMs: Math.max(0, ...health.values()),
    essentialMs: Math.max(
      0,
      ...ips.map((h) =>
        trace.filter((c) => c.host === h && /^docker run |kamal-proxy deploy |\| xargs docker stop/.test(c.command)).reduce((a, c) => a + c.ms, 0),
      ),
    ),
    trace,
  };
}

/**
 * Kamal's commands per host, from its verbose output: SSHKit logs one `Running ... on HOST` line per
 * command (audit and lock commands at debug level, hence -v) and one `Uploading` line per file when
 * the upload completes (100.0%), without the host.
 */
async function kamalInstrumented(kamal: string, dir: string, info: LabInfo, version: string, hosts: LabHost[]): Promise<Counts> {
  const before = sshLogins(hosts);
  const { output } = await kamalDeploy(kamal, dir, info, version, true);
  const after = sshLogins(hosts);
  const ips = new Set(hosts.map((h) => h.ip));
  let commands = 0;
  let uploads = 0;
  // a logged command can span lines (the lock's base64 details wrap at 60 characters): join them first
  const records: string[] = [];
  for (const line of output.split('\n')) {
    if (/^\s*(INFO|DEBUG|WARN|ERROR)\s/.test(line) || records.length === 0) records.push(line);
    else records[records.length - 1] += `\n${line}`;
  }
  for (const record of records) {
    const m = / Running [\s\S]* on (\S+)\s*$/.exec(record);
    if (m && ips.has(m[1]!)) commands++;
    if (/ INFO Uploading .* 100\.0%/.test(record)) uploads++;
  }
  const connections = after.reduce((a, n, i) => a + n - before[i]!, 0);
  return { commandsPerHost: (commands + uploads) / hosts.length, connectionsPerHost: connections / hosts.length };
}

/** Wall time of a bare `node` process that does nothing (what starting any Node.js CLI costs here). */
async function bareNodeMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await timedRun([process.execPath, '-e', '0'], tmpdir(), process.env)).wallMs);
  return median(times);
}

export async function versus(o: VersusOptions): Promise<void> {
  const [v1, v2] = ['bench-1', 'bench-2'];
  const nodeMs = await bareNodeMs();
  const rows: Row[] = [];
  for (const n of o.counts) {
    const hosts = o.info.hosts.slice(0, n);
    resetHosts(hosts);
    const dir = makeProject({
      service: 'app',
      yaml: `servers:\n  web:\n${hosts.map((h) => `    - ${h.ip}`).join('\n')}\nproxy:\n  host: bench.lab.test\n  app_port: 80\n  healthcheck:\n    interval: 1\n${proxyRunYaml()}readiness_delay: 0\ndrain_timeout: 1\n`,
    });
    // both versions in the registry (not timed: every deploy runs with --skip-push)
    for (const v of [v1, v2]) {
      const b = await runCli(['build', 'push', '--version', v], { cwd: dir, env: { ...env(o.info), VERSION: v }, reporter: new MemoryReporter() });
      if (b.exitCode !== 0) throw new Error(`build of ${v} failed: ${String((b.error as Error | undefined)?.message ?? b.exitCode)}`);
    }
    let current = v1;
    const next = (): string => (current = current === v1 ? v2 : v1);
    // warm-up: the first deploy boots the proxy and pulls both images; then one deploy by each tool
    await oursDeploy(dir, o.info, current);
    if (o.kamal) await kamalDeploy(o.kamal, dir, o.info, next());
    // counted (not timed): one deploy of each, instrumented
    const counted = await oursInstrumented(dir, o.info, next(), hosts);
    const kamalCounts = o.kamal ? await kamalInstrumented(o.kamal, dir, o.info, next(), hosts) : undefined;
    const row: Row = { hosts: n, ours: [], kamal: [], ...counted, ...(kamalCounts ? { kamalCounts } : {}) };
    for (let i = 0; i < o.repeats; i++) {
      // alternate which tool goes first in a pair
      const order = o.kamal ? (i % 2 ? ['kamal', 'ours'] : ['ours', 'kamal']) : ['ours'];
      for (const who of order) {
        if (who === 'ours') row.ours.push(await oursDeploy(dir, o.info, next()));
        else row.kamal.push(await kamalDeploy(o.kamal!, dir, o.info, next()));
      }
    }
    rows.push(row);
    if (o.trace) {
      o.out(`trace of kamal-action's instrumented deploy to ${n} host(s):\n`);
      for (const c of row.trace)
        o.out(`${c.startMs.toFixed(0).padStart(6)} ms +${c.ms.toFixed(0).padStart(5)} ms  ${c.host.padEnd(10)} ${c.command.slice(0, 150)}\n`);
    }
    resetHosts(hosts);
    rmSync(dir, { recursive: true, force: true });
  }
  report(o, rows, nodeMs);
}

function report(o: VersusOptions, rows: Row[], nodeMs: number): void {
  const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const med = (xs: Timed[], f: (t: Timed) => number | undefined) => {
    const v = xs.map(f).filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  o.out(
    `\ndeploy --skip-push to the lab, ${o.repeats} timed deploys per tool and host count (fresh process each, start-up included), medians` +
      (o.kamal ? `; ratio: median of ours/Kamal over the paired runs\n` : '\n'),
  );
  const cols = o.kamal
    ? ['hosts', 'ours wall', 'Kamal wall', 'ratio', 'ours cpu', 'Kamal cpu', 'cmds/host ours', 'Kamal', 'ssh conns/host ours', 'Kamal', 'health wait']
    : ['hosts', 'ours wall', 'ours cpu', 'cmds/host', 'ssh conns/host', 'health wait'];
  const widths = cols.map((c) => Math.max(c.length + 2, 9));
  o.out(`${cols.map((c, i) => c.padEnd(widths[i]!)).join('')}\n`);
  for (const r of rows) {
    const cells = o.kamal
      ? [
          String(r.hosts),
          s(med(r.ours, (t) => t.wallMs)),
          s(med(r.kamal, (t) => t.wallMs)),
          `${median(r.ours.map((t, i) => t.wallMs / r.kamal[i]!.wallMs)).toFixed(2)}x`,
          s(med(r.ours, (t) => t.cpuMs)),
          s(med(r.kamal, (t) => t.cpuMs)),
          r.oursCounts.commandsPerHost.toFixed(1),
          r.kamalCounts!.commandsPerHost.toFixed(1),
          r.oursCounts.connectionsPerHost.toFixed(1),
          r.kamalCounts!.connectionsPerHost.toFixed(1),
          s(r.healthMs),
        ]
      : [
          String(r.hosts),
          s(med(r.ours, (t) => t.wallMs)),
          s(med(r.ours, (t) => t.cpuMs)),
          r.oursCounts.commandsPerHost.toFixed(1),
          r.oursCounts.connectionsPerHost.toFixed(1),
          s(r.healthMs),
        ];
    o.out(`${cells.map((c, i) => c.padEnd(widths[i]!)).join('')}\n`);
  }
  o.out(
    "(cmds/host: remote commands and uploads per host, each its own SSH exec; ssh conns: logins in the hosts' sshd logs; " +
      "health wait: time in `kamal-proxy deploy`, which returns once the new container passed its health check; cpu: user + system of the tool's process tree)\n",
  );
  o.out(
    `floor: a bare node process takes ${s(nodeMs)} here; with the essential work of the slowest host (docker run, kamal-proxy deploy, docker stop of the old container) ` +
      'no deploy of this config ends sooner than:\n',
  );
  for (const r of rows) {
    const floor = nodeMs + r.essentialMs;
    const kamalWall = med(r.kamal, (t) => t.wallMs);
    o.out(`  ${r.hosts} host(s): ${s(floor)} (essential work ${s(r.essentialMs)})${kamalWall ? `, ${(floor / kamalWall).toFixed(2)}x of Kamal's wall` : ''}\n`);
  }
  if (o.kamal) {
    o.out('all timed runs (s), ours | Kamal:\n');
    for (const r of rows) {
      o.out(
        `  ${r.hosts} host(s): ${r.ours.map((t) => (t.wallMs / 1000).toFixed(2)).join(' ')} | ${r.kamal.map((t) => (t.wallMs / 1000).toFixed(2)).join(' ')}\n`,
      );
    }
  }
}
