// Bundles the CLI and the action entry points into dist/ with @vercel/ncc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const entries = [
  ['src/cli/main.ts', 'dist/cli'],
  ['src/action/main.ts', 'dist/main'],
  ['src/action/post.ts', 'dist/post'],
];

for (const [entry, out] of entries) {
  rmSync(out, { recursive: true, force: true });
  execFileSync('npx', ['ncc', 'build', entry, '-o', out, '--target', 'es2022', '-q', '--license', 'licenses.txt'], {
    stdio: 'inherit',
  });
  // ncc copies native addons it finds; the pure-JS fallbacks of ssh2 are used instead.
  for (const f of readdirSync(out)) {
    if (f.endsWith('.node')) rmSync(join(out, f));
  }
  mkdirSync(out, { recursive: true });
}
writeFileSync('dist/package.json', '{ "type": "module" }\n');
