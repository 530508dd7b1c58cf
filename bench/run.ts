// `npm run bench [-- --hosts 1,2,3 --repeats N --vs PATH --trace --cold-only --no-cold]`: the action's cold start,
// then deploy timings on the lab (bench/versus.ts), side by side with a Kamal executable when one is
// given (`--vs PATH` or KAMAL_BIN): both wall times, their ratio, CPU, commands and SSH connections per host.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLab, LAB_JSON, LAB_ROOT } from '../test/lab/lab.js';
import { median, versus } from './versus.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/**
 * The action's cold start: from spawning `node dist/action/index.js` as a runner does (INPUT_* env)
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
    writeFileSync(
      join(dir, 'config/deploy.yml'),
      `service: cold\nimage: bench/cold\nservers: [127.0.0.1]\nssh:\n  port: ${port}\nregistry:\n  server: registry:5000\n  username: u\n  password: p\nbuilder:\n  arch: amd64\n`,
    );
    for (const f of ['out', 'state', 'summary']) writeFileSync(join(dir, f), '');
    const started = performance.now();
    // the baseline: a bare node process that connects at once (what node itself costs on this machine)
    const script = baseline ? ['-e', `require('net').connect(${port}, '127.0.0.1')`] : [join(LAB_ROOT, 'dist/action/index.js')];
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
  if (process.argv.includes('--sim')) return (await import('./sim.js')).main();
  if (process.argv.includes('--plan')) return (await import('./plan.js')).main();
  if (!process.argv.includes('--no-cold')) await coldStart();
  if (process.argv.includes('--cold-only')) return;
  const counts = arg('hosts', '1,2,3').split(',').map(Number);
  const repeats = Number(arg('repeats', '5'));
  const kamal = arg('vs', process.env.KAMAL_BIN ?? '') || undefined;
  const info = await ensureLab({ hosts: Math.max(3, ...counts), quiet: true });
  process.env.LAB_JSON = LAB_JSON;
  if (!kamal) process.stdout.write('no Kamal executable given (KAMAL_BIN or --vs PATH): timing kamal-action only\n');
  await versus({ info, counts, repeats, kamal, trace: process.argv.includes('--trace'), out: (s) => void process.stdout.write(s) });
}

async function coldStart(): Promise<void> {
  const runs = Number(arg('cold-runs', '7'));
  const bare = await actionColdStart(runs, true);
  const cold = await actionColdStart(runs);
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(
    `action cold start (spawn to first SSH connection), median of ${cold.length}: ${median(cold).toFixed(0)} ms (target < 300 ms); ` +
      `a bare node process connecting at once: ${median(bare).toFixed(0)} ms, so the action's own start-up is ${(median(cold) - median(bare)).toFixed(0)} ms; ` +
      `bundle dist/action/index.js ${mb(statSync(join(LAB_ROOT, 'dist/action/index.js')).size)}, dist/ ${mb(dirSize(join(LAB_ROOT, 'dist')))}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
