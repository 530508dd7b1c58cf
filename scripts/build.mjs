// Bundles the CLI and the action entry points into dist/ with @vercel/ncc.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const entries = [
  ['src/cli/main.ts', 'dist/cli'],
  ['src/action/main.ts', 'dist/main'],
  ['src/action/post.ts', 'dist/post'],
];

for (const [entry, out] of entries) {
  rmSync(out, { recursive: true, force: true });
  execFileSync('npx', ['ncc', 'build', entry, '-o', out, '--minify', '--target', 'es2022', '-q', '--license', 'licenses.txt'], {
    stdio: 'inherit',
  });
  // ncc copies native addons it finds (built on this machine, so not reproducible);
  // ssh2 falls back to its pure-JS code without them.
  removeNativeAddons(out);
  mkdirSync(out, { recursive: true });
}
function removeNativeAddons(dir) {
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) {
      removeNativeAddons(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    } else if (f.name.endsWith('.node')) rmSync(p);
  }
}

writeFileSync('dist/package.json', '{ "type": "module" }\n');
