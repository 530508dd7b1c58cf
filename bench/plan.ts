// `npm run bench -- --plan 2000,10000[,20000] [--repeats N] [--bundle]`: how long
// `kamal-action plan deploy` takes for a generated configuration of N hosts (web, workers and a
// tagged job role, an accessory on the tag, root proxy, env tags). No host is contacted: this times
// config loading, validation, building every command of the plan and printing it as JSON.
// Each size runs in a fresh `node` process (the CLI's own start-up included), from source through
// tsx or, with --bundle, dist/cli/index.js. Wall and CPU (user + system, from GNU time when
// installed) are printed: on a busy machine the CPU figure is the steadier one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliEntry } from '../src/exec/kamal-shim.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A deploy.yml with `hosts` hosts: 60% web, 30% workers, 10% jobs (tagged), an accessory on the jobs role. */
export function planConfig(hosts: number): string {
  const web = Math.max(1, Math.floor(hosts * 0.6));
  const workers = Math.floor(hosts * 0.3);
  const jobs = Math.max(0, hosts - web - workers);
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const lines: string[] = [
    'service: app',
    'image: org/app',
    'registry:',
    '  server: registry.example.com',
    '  username: deploy',
    '  password: [REGISTRY_PASSWORD]',
    'builder:',
    '  arch: amd64',
    'proxy:',
    '  app_port: 3000',
    '  healthcheck:',
    '    path: /up',
    'env:',
    '  clear:',
    '    RAILS_ENV: production',
    '  tags:',
    '    batch:',
    '      QUEUE: batch',
    'servers:',
    '  web:',
    '    hosts:',
  ];
  let n = 0;
  for (let i = 0; i < web; i++) lines.push(`      - ${ip(n++)}`);
  lines.push('  workers:', '    cmd: bin/jobs', '    hosts:');
  for (let i = 0; i < workers; i++) lines.push(`      - ${ip(n++)}`);
  if (jobs > 0) {
    lines.push('  jobs:', '    cmd: bin/batch', '    hosts:');
    for (let i = 0; i < jobs; i++) lines.push(`      - ${ip(n++)}: batch`);
  }
  lines.push('accessories:', '  redis:', '    image: redis:7', `    host: ${ip(0)}`, '    port: 6379');
  return `${lines.join('\n')}\n`;
}

/** Writes a project folder with config/deploy.yml and .kamal/secrets for `hosts` hosts. */
export function planProject(hosts: number): string {
  const dir = mkdtempSync(join(tmpdir(), `kamal-plan-${hosts}-`));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, '.kamal'));
  writeFileSync(join(dir, 'config', 'deploy.yml'), planConfig(hosts));
  writeFileSync(join(dir, '.kamal', 'secrets'), 'REGISTRY_PASSWORD=secret\n');
  return dir;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export interface PlanSample {
  hosts: number;
  wallMs: number;
  /** User + system CPU of the process, when GNU time is there to measure it. */
  cpuMs?: number;
  /** Peak resident memory, in MB, when GNU time is there. */
  peakMb?: number;
  steps: number;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `plan deploy --json` once in a fresh process (from source, through tsx) and times it. */
export function timePlan(dir: string, hosts: number, opts: { bundle?: boolean; timeoutMs?: number } = {}): PlanSample {
  const entry = opts.bundle ? { command: process.execPath, args: [join(ROOT, 'dist/cli/index.js')] } : cliEntry();
  const timed = existsSync(GNU_TIME);
  const argv = [...entry.args, 'plan', 'deploy', '--version', 'v1', '--skip-push', '--json'];
  const started = performance.now();
  const r = spawnSync(timed ? GNU_TIME : entry.command, timed ? ['-f', '@cpu %U %S %M', entry.command, ...argv] : argv, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    timeout: opts.timeoutMs ?? 300_000,
  });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`plan deploy of ${hosts} hosts failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  const steps = (JSON.parse(r.stdout) as unknown[]).length;
  const m = /@cpu ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  return { hosts, wallMs, steps, ...(m ? { cpuMs: (Number(m[1]) + Number(m[2])) * 1000, peakMb: Number(m[3]) / 1024 } : {}) };
}

/** Times `plan deploy` for each host count and prints one line each. */
export function runPlanBench(sizes: number[], opts: { repeats?: number; bundle?: boolean; print?: (s: string) => void } = {}): PlanSample[] {
  const print = opts.print ?? ((s: string) => void process.stdout.write(s));
  const repeats = opts.repeats ?? 3;
  print(`plan deploy (a fresh process each run, ${opts.bundle ? 'dist/cli/index.js' : 'from source through tsx'}, ${repeats} runs)\n`);
  print('hosts    wall s (median, min-max)   cpu s (median, min-max)   peak MB   planned commands\n');
  const out: PlanSample[] = [];
  const range = (xs: number[]) => `${median(xs).toFixed(2).padStart(6)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
  for (const hosts of sizes) {
    const dir = planProject(hosts);
    const samples = Array.from({ length: repeats }, () => timePlan(dir, hosts, { bundle: opts.bundle }));
    const walls = samples.map((s) => s.wallMs / 1000);
    const cpus = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs / 1000]));
    const peaks = samples.flatMap((s) => (s.peakMb === undefined ? [] : [s.peakMb]));
    const cpu = cpus.length > 0 ? range(cpus) : '-';
    const peak = peaks.length > 0 ? Math.max(...peaks).toFixed(0) : '-';
    print(`${String(hosts).padEnd(8)} ${range(walls).padEnd(26)} ${cpu.padEnd(25)} ${peak.padStart(7)}   ${samples[0]!.steps}\n`);
    out.push({
      hosts,
      wallMs: median(samples.map((s) => s.wallMs)),
      ...(cpus.length > 0 ? { cpuMs: median(cpus) * 1000 } : {}),
      ...(peaks.length > 0 ? { peakMb: Math.max(...peaks) } : {}),
      steps: samples[0]!.steps,
    });
  }
  return out;
}

/** `--plan 2000,10000 [--repeats N] [--bundle]` from the command line. */
export function main(argv: string[] = process.argv): void {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] && !argv[i + 1]!.startsWith('--') ? argv[i + 1] : undefined;
  };
  const sizes = (value('--plan') ?? '2000,10000').split(',').map(Number);
  runPlanBench(sizes, { repeats: Number(value('--repeats') ?? '3'), bundle: argv.includes('--bundle') });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
