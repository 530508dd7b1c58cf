// Bundles the CLI and the action into dist/ with @vercel/ncc, and writes dist/licenses.txt.
//
//   dist/cli/index.js     the CLI (bin/kamal-action, the `kamal` of hooks and later steps)
//   dist/action/index.js  the action, main and post step in one bundle (action.yml runs it twice),
//                         with the GitHub API client in a chunk loaded only when a deployment is recorded
//
// Only JavaScript is kept: ncc also copies the native addons and programs it finds next to
// bundled code (ssh2's crypto and cpu-features addons built on this machine, ssh2's pagent.exe
// for Windows); ssh2 runs its pure-JS code without them and Pageant is Windows-only.
//
// dist/licenses.txt names every package whose code is in a bundle, with its licence text. It is
// made from the bundled modules' paths (webpack stats), not from ncc's --license output, which
// writes one file per chunk under one name so that the last chunk's list replaces the others.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const entries = [
  ['src/cli/main.ts', 'dist/cli'],
  ['src/action/index.ts', 'dist/action'],
];
const KEEP = /^(?:[\w.-]+\.js|package\.json)$/;

/** Package folders (…/node_modules/<name>) of the modules in a webpack stats file. */
export function bundledPackageDirs(stats) {
  const dirs = new Set();
  const walk = (modules = []) => {
    for (const m of modules) {
      // the identifier is `loader!loader!…!resource`: only the resource says where the code comes from
      // (`json|/path` for a JSON module, `?query` after it)
      const resource = String(m.identifier ?? m.name ?? '')
        .split('!')
        .pop()
        .replace(/^[\w/-]+\|/, '')
        .replace(/\?.*$/, '');
      const match = /^(.*node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(resource);
      if (match) dirs.add(match[1]);
      walk(m.modules);
    }
  };
  walk(stats.modules);
  for (const child of stats.children ?? []) for (const d of bundledPackageDirs(child)) dirs.add(d);
  return dirs;
}

/** One entry of licenses.txt: name, version, licence, then the package's licence file(s). */
export function licenseEntry(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? (pkg.licenses ?? []).map((l) => l.type).join(' OR '));
  const files = readdirSync(dir)
    .filter((f) => /^(?:licen[cs]e|copying|notice)(?:[.-][\w.-]*)?$/i.test(f) && statSync(join(dir, f)).isFile())
    .sort();
  if (files.length === 0) throw new Error(`${pkg.name} (${dir}) has no licence file to include in dist/licenses.txt`);
  const texts = files.map((f) => readFileSync(join(dir, f), 'utf8').replace(/\r\n?/g, '\n').trim());
  return { name: pkg.name, text: `${pkg.name}@${pkg.version}\nLicense: ${license || 'see below'}\n\n${texts.join('\n\n')}\n` };
}

function removeAllButJs(dir) {
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) rmSync(p, { recursive: true });
    else if (!KEEP.test(f.name)) rmSync(p);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.chdir(ROOT);
  // Bundles are made beside dist/ and moved in once all are made: dist/ is never half built.
  mkdirSync('.lab', { recursive: true });
  const work = mkdtempSync(join('.lab', 'build-'));
  const packages = new Map();
  try {
    for (const [entry, out] of entries) {
      const staged = join(work, out);
      const stats = join(work, `${out.replace(/\W/g, '_')}.json`);
      execFileSync('npx', ['ncc', 'build', entry, '-o', staged, '--minify', '--target', 'es2022', '-q', '--stats-out', stats], { stdio: 'inherit' });
      removeAllButJs(staged);
      for (const dir of bundledPackageDirs(JSON.parse(readFileSync(stats, 'utf8')))) {
        // ncc's own stand-ins (a module that was not found), not code of a package
        if (/node_modules[\\/]@vercel[\\/]ncc$/.test(dir)) continue;
        const e = licenseEntry(dir);
        packages.set(e.name, e.text);
      }
    }
    const names = [...packages.keys()].sort();
    writeFileSync(
      join(work, 'dist', 'licenses.txt'),
      `Packages bundled in dist/ (${names.length}): ${names.join(', ')}\n\n${names.map((n) => packages.get(n)).join('\n---\n\n')}`,
    );
    writeFileSync(join(work, 'dist', 'package.json'), '{ "type": "module" }\n');
    mkdirSync('dist', { recursive: true });
    for (const name of readdirSync('dist')) rmSync(join('dist', name), { recursive: true, force: true });
    for (const name of readdirSync(join(work, 'dist'))) renameSync(join(work, 'dist', name), join('dist', name));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync('dist/action/index.js') || !existsSync('dist/cli/index.js')) throw new Error('a bundle is missing');
}
