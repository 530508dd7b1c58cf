/**
 * What `npm run build` leaves in dist/: two bundles of JavaScript (the CLI, and the action's
 * main and post step in one file with the GitHub API client in one chunk), and licenses.txt
 * naming every bundled package with its licence text.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { bundledPackageDirs, licenseEntry } from '../../../scripts/build.mjs';
import { ROOT, readFileCommands } from './runner-log.js';

const DIST = join(ROOT, 'dist');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((f) => (f.isDirectory() ? files(join(dir, f.name)).map((x) => `${f.name}/${x}`) : [f.name]));
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('dist/', () => {
  it('holds JavaScript only: no native addons, no Windows programs', () => {
    const all = files(DIST);
    expect(all.filter((f) => !/\.js$|(^|\/)package\.json$|^licenses\.txt$/.test(f))).toEqual([]);
    expect(all.filter((f) => /(^|\/)index\.js$/.test(f)).sort()).toEqual(['action/index.js', 'cli/index.js']);
  });

  it('has the GitHub API client once, in a chunk of the action loaded only when a deployment is recorded', () => {
    const withOctokit = files(DIST).filter((f) => f.endsWith('.js') && readFileSync(join(DIST, f), 'utf8').includes('octokit'));
    expect(withOctokit).toHaveLength(1);
    expect(withOctokit[0]).toMatch(/^action\/\d+\.index\.js$/);
  });

  it('is smaller than 5.4 MB', () => {
    const size = files(DIST).reduce((n, f) => n + statSync(join(DIST, f)).size, 0);
    expect(size).toBeLessThan(5.4e6);
  });

  it.each(['ssh2', 'yaml', 'zod', 'commander', 'tweetnacl', 'bcrypt-pbkdf', 'asn1', 'ssh-config', '@actions/github', '@octokit/core', 'undici'])(
    'licenses.txt names %s with its version and licence text',
    (pkg) => {
      const text = readFileSync(join(DIST, 'licenses.txt'), 'utf8');
      const licence = readdirSync(join(ROOT, 'node_modules', pkg)).find((f) => /^licen[cs]e/i.test(f))!;
      const notice = readFileSync(join(ROOT, 'node_modules', pkg, licence), 'utf8')
        .replace(/\r\n?/g, '\n')
        .trim();
      expect(text).toContain(`\n${pkg}@${version(pkg)}\nLicense: `);
      expect(text).toContain(notice);
    },
  );
});

describe('the action bundle', () => {
  it('runs as the main step and saves isPost before anything else, so the runner starts the post step with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-ispost-'));
    const state = join(dir, 'state');
    writeFileSync(state, '');
    const r = spawnSync(process.execPath, [join(DIST, 'action/index.js')], {
      env: { PATH: process.env.PATH ?? '', GITHUB_STATE: state, GITHUB_OUTPUT: join(dir, 'out'), RUNNER_TEMP: dir, 'INPUT_SSH-HOST-KEY-CHECKING': 'nope' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("::error::Input 'ssh-host-key-checking' must be strict or accept-new, got 'nope'");
    expect(Object.entries(readFileCommands(state))[0]).toEqual(['isPost', 'true']);
  });

  it('runs as the post step when the isPost state is set: nothing saved by a main step, nothing to do, never a failure', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-ispost-'));
    const state = join(dir, 'state');
    writeFileSync(state, '');
    const r = spawnSync(process.execPath, [join(DIST, 'action/index.js')], {
      env: { PATH: process.env.PATH ?? '', GITHUB_STATE: state, RUNNER_TEMP: dir, STATE_isPost: 'true', 'INPUT_SSH-HOST-KEY-CHECKING': 'nope' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("::warning::Post step: Input 'ssh-host-key-checking' must be strict or accept-new, got 'nope'");
    expect(readFileSync(state, 'utf8')).toBe('');
  });
});

describe('bundledPackageDirs', () => {
  it('takes the package folder of each bundled module from the resource after the loaders (JSON modules, queries, nested and child compilations too)', () => {
    const stats = {
      modules: [
        {
          identifier: '/r/node_modules/@vercel/ncc/loaders/empty-loader.js!/r/src/a.ts',
          modules: [{ identifier: 'loader!/r/node_modules/yaml/dist/index.js' }],
        },
        { identifier: '/r/node_modules/ssh2/node_modules/asn1/lib/index.js?x=1' },
        { identifier: 'json|/r/node_modules/ssh2/package.json' },
        { name: './node_modules/@octokit/core/dist-src/index.js', identifier: '/r/node_modules/@octokit/core/dist-src/index.js' },
      ],
      children: [{ modules: [{ identifier: '/r/node_modules/zod/index.js' }] }],
    };
    expect([...bundledPackageDirs(stats)].sort()).toEqual([
      '/r/node_modules/@octokit/core',
      '/r/node_modules/ssh2',
      '/r/node_modules/ssh2/node_modules/asn1',
      '/r/node_modules/yaml',
      '/r/node_modules/zod',
    ]);
  });

  it('refuses a package without a licence file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-pkg-'));
    writeFileSync(join(dir, 'package.json'), '{"name":"bare","version":"1.0.0","license":"MIT"}');
    expect(() => licenseEntry(dir)).toThrow(/^bare \(.*\) has no licence file to include in dist\/licenses\.txt$/);
    writeFileSync(join(dir, 'LICENSE'), 'MIT text\r\n');
    expect(licenseEntry(dir)).toEqual({ name: 'bare', text: 'bare@1.0.0\nLicense: MIT\n\nMIT text\n' });
  });
});
