// `npm run bench -- --sim 1,10,100,500 [--vs KAMAL [--no-ours]] [--scale 1] [--boot-limit N --boot-wait S] [--max-starts N] [--timeline]`
// Deploys to a simulated fleet (test/sim: SSH servers on 127.0.x.y:22 answering from a model of
// Docker and kamal-proxy, with the latencies the lab measures) at fleet sizes the lab cannot hold.
// For each size and each tool: a fresh fleet in its own process, a first deploy (v1: proxy boot,
// pulls), then the measured deploy (v2). Each deploy runs as its own process under GNU time, so
// both tools are measured the same way: wall, CPU (user + system) and peak RSS of the deploying
// process; SSH connections and commands per host are counted by the simulated hosts.
// Kamal runs when a Kamal executable is given (KAMAL_BIN or --vs PATH).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeSimProject } from '../test/sim/project.js';
import { type BootSpan, bootSpans, checkBootGroups } from '../test/sim/timeline.js';

const ROOT = join(import.meta.dirname, '..');

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1]! : fallback;
}

interface Ready {
  addresses: string[];
  keyFile: string;
  knownHostsFile: string;
}
interface Snapshot {
  stats: { host: string; connections: number; commands: number }[];
  unmodelled: { host: string; command: string; reason: string }[];
  connectionErrors: { host: string; error: string }[];
  records: { host: string; connection: number; start: number; end: number; command: string; exitCode: number; stderr: string }[];
  rssMb: number;
  cpuMs: number;
}

interface Run {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
  code: number;
  stderr: string;
}

class SimFleet {
  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {}
  static async start(hosts: number, base: number, scale: number, dir: string): Promise<SimFleet> {
    const child = fork(join(ROOT, 'test/sim/serve.ts'), ['--hosts', String(hosts), '--base', String(base), '--dir', dir, '--scale', String(scale)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Ready));
      child.once('exit', (code) => reject(new Error(`the simulated fleet exited (${code}) before it was ready`)));
    });
    return new SimFleet(child, ready);
  }
  async snapshot(): Promise<Snapshot> {
    this.child.send({ type: 'snapshot' });
    return new Promise((resolve) => this.child.once('message', (m) => resolve(m as Snapshot)));
  }
  async stop(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' });
    await exited;
  }
}

/** Runs a command under GNU time: wall, CPU and peak RSS of the process (and its waited-for children). */
async function timed(argv: string[], cwd: string, env: Record<string, string | undefined>): Promise<Run> {
  const out = join(mkdtempSync(join(tmpdir(), 'sim-time-')), 'time');
  const started = performance.now();
  let stderr = '';
  const code = await new Promise<number>((resolve) => {
    const child = spawn('/usr/bin/time', ['-o', out, '-f', '%U %S %M', ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // the tail of both streams, for the error when the deploy fails (Kamal prints its errors on stdout)
    const keep = (d: Buffer): void => {
      stderr = (stderr + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const wallMs = performance.now() - started;
  const [user, sys, maxKb] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { wallMs, cpuMs: (user + sys) * 1000, rssMb: maxKb / 1024, code, stderr };
}

interface Tool {
  name: string;
  argv: (version: string) => string[];
  env: (ready: Ready) => Record<string, string | undefined>;
}

/** Our CLI: the bundle (a copy of dist/ taken now, so a rebuild during the bench changes nothing), or the source through tsx. */
function ours(): Tool {
  const fromSource = process.argv.includes('--from-source') || !existsSync(join(ROOT, 'dist/cli/index.js'));
  let entry: string[];
  if (fromSource) entry = [process.execPath, '--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, join(ROOT, 'src/cli/main.ts')];
  else {
    const copy = join(mkdtempSync(join(tmpdir(), 'sim-bench-dist-')), 'dist');
    cpSync(join(ROOT, 'dist'), copy, { recursive: true });
    entry = [process.execPath, join(copy, 'cli/index.js')];
  }
  return {
    name: fromSource ? 'kamal-action (source)' : 'kamal-action',
    argv: (v) => [...entry, 'deploy', '--skip-push', '--version', v],
    env: (r) => ({ PATH: process.env.PATH, HOME: process.env.HOME, KAMAL_ACTION_KNOWN_HOSTS: r.knownHostsFile }),
  };
}

function kamal(path: string): Tool {
  return {
    name: 'kamal',
    argv: (v) => [path, 'deploy', '--skip-push', '--version', v],
    env: () => ({ ...process.env }),
  };
}

interface Row {
  tool: string;
  hosts: number;
  first: Run;
  run: Run;
  connections: number;
  commandsPerHost: number;
  simRssMb: number;
  simCpuMs: number;
  /** CPU time the whole machine was busy during the measured deploy (every process, ours, the sim's and anyone else's). */
  machineCpuMs: number;
  timeline: Snapshot['records'];
  addresses: string[];
}

async function measure(tool: Tool, hosts: number, opts: { scale: number; extra: string; base: number }): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `sim-bench-${hosts}-`));
  const fleet = await SimFleet.start(hosts, opts.base, opts.scale, join(dir, 'keys'));
  try {
    const project = writeSimProject(join(dir, 'p'), {
      hosts: fleet.ready.addresses,
      keyFile: fleet.ready.keyFile,
      knownHostsFile: fleet.ready.knownHostsFile,
      extra: opts.extra,
    });
    const first = await timed(tool.argv('v1'), project, tool.env(fleet.ready));
    if (first.code !== 0) {
      const errors = (await fleet.snapshot()).connectionErrors.slice(0, 5);
      throw new Error(
        `${tool.name}: first deploy to ${hosts} simulated hosts failed (${first.code}): ${first.stderr}\nconnection errors on the hosts' side: ${JSON.stringify(errors)}`,
      );
    }
    const before = await fleet.snapshot();
    const busy = machineBusyMs();
    const run = await timed(tool.argv('v2'), project, tool.env(fleet.ready));
    const machineCpuMs = machineBusyMs() - busy;
    if (run.code !== 0) throw new Error(`${tool.name}: deploy to ${hosts} simulated hosts failed (${run.code}): ${run.stderr}`);
    const after = await fleet.snapshot();
    if (after.unmodelled.length) throw new Error(`${tool.name} sent commands the sim does not model: ${JSON.stringify(after.unmodelled.slice(0, 3))}`);
    const conns = after.stats.reduce((a, s) => a + s.connections, 0) - before.stats.reduce((a, s) => a + s.connections, 0);
    const cmds = after.stats.reduce((a, s) => a + s.commands, 0) - before.stats.reduce((a, s) => a + s.commands, 0);
    const seen = new Set(before.records.map((r) => `${r.host} ${r.start}`));
    return {
      tool: tool.name,
      hosts,
      first,
      run,
      connections: conns,
      commandsPerHost: cmds / hosts,
      simRssMb: after.rssMb,
      simCpuMs: after.cpuMs - before.cpuMs,
      machineCpuMs,
      timeline: after.records.filter((r) => !seen.has(`${r.host} ${r.start}`)),
      addresses: fleet.ready.addresses,
    };
  } finally {
    await fleet.stop();
  }
}

/** Busy CPU time of the machine so far, from /proc/stat (all cores; idle and iowait left out), in ms. */
function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0)) * 1000) / 100;
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Per host: when its boot ran (see test/sim/timeline.ts), relative to the deploy's first command. */
function bootTimeline(row: Row): BootSpan[] {
  const t0 = Math.min(...row.timeline.map((r) => r.start));
  return bootSpans(row.timeline, row.addresses).map((s) => ({ ...s, start: s.start - t0, end: s.end - t0 }));
}

export async function main(): Promise<void> {
  const sizes = (arg('sim', '1,10,100') ?? '1,10,100').split(',').map(Number);
  const scale = Number(arg('scale', '1'));
  const kamalBin = arg('vs') ?? process.env.KAMAL_BIN;
  const bootLimit = arg('boot-limit');
  const bootWait = arg('boot-wait');
  const maxStarts = arg('max-starts');
  const extra = [
    bootLimit || bootWait ? `boot:\n${bootLimit ? `  limit: ${bootLimit}\n` : ''}${bootWait ? `  wait: ${bootWait}\n` : ''}` : '',
    maxStarts ? `sshkit:\n  max_concurrent_starts: ${maxStarts}\n` : '',
  ].join('');
  const tools = [...(process.argv.includes('--no-ours') ? [] : [ours()]), ...(kamalBin ? [kamal(kamalBin)] : [])];
  const rows: Row[] = [];
  process.stdout.write(
    `simulated fleet: latencies x${scale} (docker run 0.6-0.9 s, other docker calls 60-200 ms, kamal-proxy deploy +0.3-0.9 s, session start 3-10 ms)${extra ? `; config: ${extra.replace(/\n\s*/g, ' ').trim()}` : ''}\n`,
  );
  for (const n of sizes) {
    for (const tool of tools) {
      const row = await measure(tool, n, { scale, extra, base: 100 });
      rows.push(row);
      process.stdout.write(`  ${tool.name} ${n} hosts: ${fmt(row.run.wallMs)}\n`);
    }
  }
  const cores = cpus().length;
  process.stdout.write(
    '\nhosts  tool                   wall      first     cpu       peak rss   ssh conns  commands/host  sim cpu   machine cpu         vs 1 host  ratio to kamal\n',
  );
  for (const r of rows) {
    const one = rows.find((x) => x.tool === r.tool && x.hosts === 1);
    const k = rows.find((x) => x.tool === 'kamal' && x.hosts === r.hosts);
    process.stdout.write(
      `${String(r.hosts).padEnd(7)}${r.tool.padEnd(23)}${fmt(r.run.wallMs).padEnd(10)}${fmt(r.first.wallMs).padEnd(10)}${fmt(r.run.cpuMs).padEnd(10)}` +
        `${`${r.run.rssMb.toFixed(0)} MB`.padEnd(11)}${String(r.connections).padEnd(11)}${r.commandsPerHost.toFixed(1).padEnd(15)}` +
        `${fmt(r.simCpuMs).padEnd(10)}${`${fmt(r.machineCpuMs)} (${((100 * r.machineCpuMs) / (r.run.wallMs * cores)).toFixed(0)}%)`.padEnd(20)}` +
        `${one ? `${(r.run.wallMs / one.run.wallMs).toFixed(2)}x` : '-'}`.padEnd(11) +
        `${k && r.tool !== 'kamal' ? `${(r.run.wallMs / k.run.wallMs).toFixed(2)}x wall, ${(r.run.cpuMs / k.run.cpuMs).toFixed(2)}x cpu` : ''}\n`,
    );
  }
  process.stdout.write(
    '(wall, cpu and peak rss: the second deploy (v2) as a process; first: the first deploy (v1, proxy boot and pulls); ssh conns and commands: counted by the simulated hosts;\n' +
      ` sim cpu: the simulated fleet's process during the deploy; machine cpu: every process on the machine during the deploy, and its share of ${cores} cores)\n`,
  );
  const ourRows = rows.filter((r) => r.tool !== 'kamal');
  const one = ourRows.find((r) => r.hosts === 1);
  for (const r of ourRows.filter((x) => x.hosts >= 100)) {
    if (one) process.stdout.write(`target: ${r.hosts} hosts within 1.5x of 1 host's wall: ${(r.run.wallMs / one.run.wallMs).toFixed(2)}x\n`);
    if (r.hosts >= 500) process.stdout.write(`target: ${r.hosts} hosts with peak RSS <= 400 MB: ${r.run.rssMb.toFixed(0)} MB\n`);
  }
  if (process.argv.includes('--timeline')) {
    for (const r of rows) {
      process.stdout.write(
        `\nboot timeline, ${r.tool}, ${r.hosts} hosts (ms from the deploy's first command: "Booted" audit line .. kamal-proxy deploy or old container stopped)\n`,
      );
      const spans = bootTimeline(r);
      for (const s of spans) process.stdout.write(`  ${s.host.padEnd(14)} ${s.start.toFixed(0).padStart(7)} .. ${s.end.toFixed(0).padStart(7)}\n`);
      if (bootLimit) {
        const { violations, gaps } = checkBootGroups(spans, Number(bootLimit), Number(bootWait ?? 0) * 1000);
        process.stdout.write(
          `  groups of ${bootLimit}: ${gaps.map((g) => `${g.toFixed(0)} ms`).join(', ')} between groups; ${violations.length ? violations.join('; ') : `each group after the last one ended, boot.wait ${bootWait ?? 0} s apart`}\n`,
        );
      }
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
