// What loading @actions/core costs the action at start-up: bundles `import * as core from
// '@actions/core'` the way the action is bundled (ncc, minified) next to an empty bundle, then
// starts each in a fresh `node` many times and compares the CPU time (user + system) of the
// process, which is steadier than wall time on a busy machine. `node scripts/core-startup.mjs
// [/path/to/node]`; the figure is in docs/architecture.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const node = process.argv[2] || process.execPath;
const RUNS = 31;
const dir = join(ROOT, '.lab', 'core-startup');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const bundles = {};
for (const [name, source] of Object.entries({
  '@actions/core': "import * as core from '@actions/core';\ncore.info('x');\n",
  nothing: "process.stdout.write('x\\n');\n",
})) {
  const key = name.replace(/\W/g, '_');
  writeFileSync(join(dir, `${key}.mjs`), source);
  execFileSync('npx', ['ncc', 'build', join(dir, `${key}.mjs`), '-o', join(dir, key), '--minify', '-q'], { cwd: ROOT, stdio: 'inherit' });
  bundles[name] = join(dir, key, 'index.mjs');
}

const probe = (file) =>
  `import(${JSON.stringify(file)}).then(() => { const r = process.resourceUsage(); process.stderr.write(String((r.userCPUTime + r.systemCPUTime) / 1000)) })`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = {};
for (const [name, file] of Object.entries(bundles)) {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(Number(spawnSync(node, ['-e', probe(file)], { encoding: 'utf8' }).stderr));
  cpu[name] = median(times);
}
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `Node ${version}: process CPU time, median of ${RUNS}: @actions/core ${cpu['@actions/core'].toFixed(0)} ms, ` +
    `an empty bundle ${cpu.nothing.toFixed(0)} ms: loading @actions/core costs ${(cpu['@actions/core'] - cpu.nothing).toFixed(0)} ms`,
);
rmSync(dir, { recursive: true, force: true });
