// `npm run bench [-- --hosts 1,3[,8] --repeats N]`: deploy timings against the lab.
// For each host count: one warm-up deploy (proxy boot, first pull), then N timed deploys that
// alternate between two versions built beforehand (--skip-push, so no build is timed). Prints wall time,
// SSH connections and commands per host, the time spent waiting for the app to become healthy
// (kamal-proxy deploy, which returns once the new target passed its health check) and the
// orchestration overhead: wall time minus that wait.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLab, LAB_JSON, LAB_ROOT, type LabInfo } from '../test/lab/lab.js';
import { makeProject, proxyRunYaml, resetHosts } from '../test/e2e/helpers.js';
import { runCli } from '../src/cli/run.js';
import { MemoryReporter } from '../src/engine/reporter.js';
import type { Runner } from '../src/exec/types.js';
import { display, type Command } from '../src/shell.js';

interface Sample {
  /** With --trace: every command of the deploy, with its start (from the deploy's start) and duration. */
  trace?: { host: string; startMs: number; ms: number; command: string }[];
  wallMs: number;
  /** CPU time of this process (user + system) during the deploy. */
  cpuMs: number;
  /** CPU time the whole machine spent busy during the deploy (every core, every process: lab hosts, their engines, containers, sshd, us). */
  machineCpuMs: number;
  /** Wall time spent inside remote commands on the busiest host, and the rest (our own gaps between commands). */
  remoteMs: number;
  healthMs: number;
  connections: number;
  commandsPerHost: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** Busy CPU time of the machine so far, from /proc/stat (all cores; idle and iowait excluded), in ms. */
function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as number[];
  const ticks = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function cliEnv(info: LabInfo, version?: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LAB_REGISTRY_PASSWORD: info.registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: info.ssh.knownHosts,
    ...(version ? { VERSION: version } : {}),
  };
}

/** Builds and pushes a version (not timed: deploys run with --skip-push). */
async function build(dir: string, info: LabInfo, version: string): Promise<void> {
  const r = await runCli(['build', 'push', '--version', version], { cwd: dir, env: cliEnv(info, version), reporter: new MemoryReporter() });
  if (r.exitCode !== 0) throw new Error(`build of ${version} failed: ${String((r.error as Error | undefined)?.message ?? r.exitCode)}`);
}

async function deploy(dir: string, info: LabInfo, version: string, hosts: string[]): Promise<Sample> {
  const perHost = new Map<string, number>();
  const healthByHost = new Map<string, number>();
  let connections = 0;
  const trace: NonNullable<Sample['trace']> = [];
  const cpu = process.cpuUsage();
  const busy = machineBusyMs();
  const started = performance.now();
  const r = await runCli(['deploy', '--version', version, '--skip-push'], {
    cwd: dir,
    env: cliEnv(info),
    reporter: new MemoryReporter(),
    onContext: (k) => {
      const runner = k.runner as Runner & { connectionCount?: number };
      const run = runner.run.bind(runner);
      runner.run = async (host: string, command: Command, opts) => {
        const t = performance.now();
        try {
          return await run(host, command, opts);
        } finally {
          trace.push({ host, startMs: t - started, ms: performance.now() - t, command: display(command) });
          perHost.set(host, (perHost.get(host) ?? 0) + 1);
          if (/kamal-proxy deploy /.test(display(command))) healthByHost.set(host, (healthByHost.get(host) ?? 0) + performance.now() - t);
        }
      };
      const close = runner.close.bind(runner);
      runner.close = async () => {
        connections = runner.connectionCount ?? 0;
        return close();
      };
    },
  });
  const wallMs = performance.now() - started;
  const machineCpuMs = machineBusyMs() - busy;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  if (r.exitCode !== 0) throw new Error(`deploy ${version} to ${hosts.join(', ')} failed: ${String((r.error as Error | undefined)?.message ?? r.exitCode)}`);
  const counts = hosts.map((h) => perHost.get(h) ?? 0);
  const remoteByHost = hosts.map((h) => trace.filter((c) => c.host === h).reduce((a, c) => a + c.ms, 0));
  return {
    trace,
    wallMs,
    cpuMs,
    machineCpuMs,
    remoteMs: Math.max(0, ...remoteByHost),
    // hosts boot in parallel: the wait on the critical path is the longest one
    healthMs: Math.max(0, ...healthByHost.values()),
    connections,
    commandsPerHost: counts.reduce((a, b) => a + b, 0) / hosts.length,
  };
}

/**
 * The action's cold start: from spawning `node dist/main/index.js` as a runner does (INPUT_* env)
 * to the first TCP connection reaching an SSH port. A local listener stands in for the host and
 * closes the connection at once: only the time to get there is measured.
 */
async function actionColdStart(runs: number, baseline = false): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const server = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'bench-action-'));
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config/deploy.yml'), `service: cold\nimage: bench/cold\nservers: [127.0.0.1]\nssh:\n  port: ${port}\nregistry:\n  server: registry:5000\n  username: u\n  password: p\nbuilder:\n  arch: amd64\n`);
    for (const f of ['out', 'state', 'summary']) writeFileSync(join(dir, f), '');
    const started = performance.now();
    // the baseline: a bare node process that connects at once (what node itself costs on this machine)
    const script = baseline ? ['-e', `require('net').connect(${port}, '127.0.0.1')`] : [join(LAB_ROOT, 'dist/main/index.js')];
    const child = spawn(process.execPath, script, {
      cwd: dir,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: dir,
        RUNNER_TEMP: dir,
        GITHUB_OUTPUT: join(dir, 'out'),
        GITHUB_STATE: join(dir, 'state'),
        GITHUB_STEP_SUMMARY: join(dir, 'summary'),
        INPUT_COMMAND: 'lock status',
        'INPUT_SSH-HOST-KEY-CHECKING': 'accept-new',
        INPUT_VERSION: 'cold',
      },
    });
    const connected = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the action made no SSH connection within 30 s')), 30_000);
      server.once('connection', () => {
        clearTimeout(timer);
        resolve(performance.now() - started);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the action exited (${code}) before connecting`));
      });
    });
    times.push(connected);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    server.close();
  }
  return times;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirSize(p) : statSync(p).size;
  }
  return total;
}

async function main(): Promise<void> {
  const runs = Number(arg('cold-runs', '7'));
  const bare = await actionColdStart(runs, true);
  const cold = await actionColdStart(runs);
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(
    `action cold start (spawn to first SSH connection), median of ${cold.length}: ${median(cold).toFixed(0)} ms (target < 300 ms); ` +
      `a bare node process connecting at once: ${median(bare).toFixed(0)} ms, so the action's own start-up is ${(median(cold) - median(bare)).toFixed(0)} ms; ` +
      `bundle dist/main/index.js ${mb(statSync(join(LAB_ROOT, 'dist/main/index.js')).size)}, dist/ ${mb(dirSize(join(LAB_ROOT, 'dist')))}\n`,
  );

  if (process.argv.includes('--cold-only')) return;
  const counts = arg('hosts', '1,3').split(',').map(Number);
  const repeats = Number(arg('repeats', '4'));
  const max = Math.max(...counts);
  const info = await ensureLab({ hosts: Math.max(3, max), quiet: true });
  process.env.LAB_JSON = LAB_JSON;
  const [v1, v2] = ['bench-1', 'bench-2'];
  const rows: { hosts: number; s: Sample; overheadMs: number }[] = [];
  for (const n of counts) {
    const hosts = info.hosts.slice(0, n);
    resetHosts(hosts);
    const dir = makeProject({
      service: 'app',
      yaml: `servers:\n  web:\n${hosts.map((h) => `    - ${h.ip}`).join('\n')}\nproxy:\n  host: bench.lab.test\n  app_port: 80\n  healthcheck:\n    interval: 1\n${proxyRunYaml()}readiness_delay: 0\ndrain_timeout: 1\n`,
    });
    const ips = hosts.map((h) => h.ip);
    for (const v of [v1, v2]) await build(dir, info, v);
    await deploy(dir, info, v1, ips);
    const samples: Sample[] = [];
    for (let i = 0; i < repeats; i++) samples.push(await deploy(dir, info, i % 2 ? v1 : v2, ips));
    const s: Sample = {
      wallMs: median(samples.map((x) => x.wallMs)),
      cpuMs: median(samples.map((x) => x.cpuMs)),
      machineCpuMs: median(samples.map((x) => x.machineCpuMs)),
      remoteMs: median(samples.map((x) => x.remoteMs)),
      healthMs: median(samples.map((x) => x.healthMs)),
      connections: median(samples.map((x) => x.connections)),
      commandsPerHost: median(samples.map((x) => x.commandsPerHost)),
    };
    rows.push({ hosts: n, s, overheadMs: s.wallMs - s.healthMs });
    if (process.argv.includes('--trace')) {
      const last = samples.at(-1)!;
      process.stdout.write(`trace of the last deploy to ${n} host(s), ${(last.wallMs / 1000).toFixed(2)} s wall:\n`);
      for (const c of last.trace ?? []) {
        process.stdout.write(`${c.startMs.toFixed(0).padStart(6)} ms +${c.ms.toFixed(0).padStart(5)} ms  ${c.host.padEnd(10)} ${c.command.slice(0, 150)}\n`);
      }
    }
    resetHosts(hosts);
  }
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  process.stdout.write(`deploy to the lab, median of ${repeats} deploys per row (after one warm-up)\n`);
  const cores = cpus().length;
  process.stdout.write(
    'hosts  wall      health wait  health share  overhead  in commands  between  ssh conns  commands/host  our cpu  machine cpu\n',
  );
  for (const r of rows) {
    process.stdout.write(
      `${String(r.hosts).padEnd(7)}${fmt(r.s.wallMs).padEnd(10)}${fmt(r.s.healthMs).padEnd(13)}${`${((100 * r.s.healthMs) / r.s.wallMs).toFixed(0)}%`.padEnd(14)}` +
        `${fmt(r.overheadMs).padEnd(10)}${fmt(r.s.remoteMs).padEnd(13)}${fmt(Math.max(0, r.s.wallMs - r.s.remoteMs)).padEnd(9)}` +
        `${String(r.s.connections).padEnd(11)}${r.s.commandsPerHost.toFixed(1).padEnd(15)}${fmt(r.s.cpuMs).padEnd(9)}` +
        `${fmt(r.s.machineCpuMs)} (${((100 * r.s.machineCpuMs) / (r.s.wallMs * cores)).toFixed(0)}% of ${cores} cores)\n`,
    );
  }
  process.stdout.write(
    '(in commands: time inside remote commands on the busiest host, from sending one to its exit status; between: the rest, our own work and waits between commands;\n' +
      ` machine cpu: CPU time the whole machine was busy during the deploy, lab hosts and their engines included; no schedule on ${cores} cores finishes sooner than that divided by ${cores})\n`,
  );
  const one = rows.find((r) => r.hosts === 1);
  if (one) {
    process.stdout.write(`one host: overhead ${fmt(one.overheadMs)} (target < 1.50 s)\n`);
    for (const r of rows.filter((x) => x.hosts > 1)) {
      const target = r.hosts >= 8 ? 1.5 : 1.3;
      const floor = r.s.machineCpuMs / cores;
      process.stdout.write(
        `${r.hosts} hosts: ${(r.s.wallMs / one.s.wallMs).toFixed(2)}x the wall time of one host (target < ${target}x); ` +
          `the machine's CPU work alone needs ${fmt(floor)} on ${cores} cores, ${(floor / one.s.wallMs).toFixed(2)}x of one host\n`,
      );
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
