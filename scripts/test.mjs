// Runs the whole test suite (unit, then end-to-end against the lab) and ends with
// a plain "N passed, N failed" line. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('.lab', { recursive: true });
const out = '.lab/test-results.json';
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)];
const r = spawnSync('npx', args, { stdio: 'inherit' });
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(out)) {
  const results = JSON.parse(readFileSync(out, 'utf8'));
  passed = results.numPassedTests ?? 0;
  failed = (results.numFailedTests ?? 0) + (results.numRuntimeErrorTestSuites ?? 0);
  skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
}
if (r.status !== 0 && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(r.status ?? 1);
