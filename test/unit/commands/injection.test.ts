/**
 * Hostile configuration values reach docker as exactly one argument: the
 * rendered command is split like a shell would, and really run by /bin/sh
 * with `docker` replaced by a function printing its arguments.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Accessory, App, Builder, Registry } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { display, render, splitShellWords, type Command } from '../../../src/shell.js';

const dir = mkdtempSync(join(tmpdir(), 'kamal-injection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const marker = join(dir, 'pwned');

const HOSTILE: Record<string, string> = {
  'single quote': "it's",
  'double quotes': 'say "hi"',
  'command substitution': `$(touch ${marker})`,
  backticks: `\`touch ${marker}\``,
  semicolon: `a; touch ${marker}`,
  newline: `line1\ntouch ${marker}\nline3`,
  unicode: 'ünïcødé ✓ 日本',
  'parameter expansion': '${HOME} and $HOME',
  backslashes: 'back\\slash\\',
  'history bang': '!bang !!',
  'everything at once': `'"$(touch ${marker})\`touch ${marker}\`;|&<>*?[]{}~#\n\t\\`,
};

/** Runs the command in sh with docker/pack stubbed; returns each invocation's arguments. */
function shellArgs(command: Command): string[][] {
  const script = `docker() { printf '%s\\0' "$@"; printf '\\1'; }; ${render(command)}`;
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\x01')
    .filter((s) => s.length > 0)
    .map((inv) => inv.split('\0').slice(0, -1));
}

function newConfig(raw: Record<string, any>, secrets: Record<string, string> = {}): Configuration {
  return new Configuration(
    { service: 'app', image: 'dhh/app', registry: { username: 'dhh', password: 'secret' }, builder: { arch: 'amd64' }, servers: ['1.1.1.1'], ...raw },
    { version: '999', secrets: new MapSecretStore(secrets), localArch: 'amd64' },
  );
}

type Site = { name: string; build: (value: string) => Command; word: (value: string) => string };

const SITES: Site[] = [
  { name: 'env clear value', build: (v) => appFor({ env: { clear: { MY_VAR: v } } }).run(), word: (v) => `MY_VAR=${v}` },
  { name: 'label value', build: (v) => appFor({ labels: { 'my.label': v } }).run(), word: (v) => `my.label=${v}` },
  { name: 'docker option value', build: (v) => appFor({ servers: { web: { hosts: ['1.1.1.1'], options: { 'add-host': v } } } }).run(), word: (v) => v },
  { name: 'volume', build: (v) => appFor({ volumes: [v] }).run(), word: (v) => v },
  { name: 'hostname', build: (v) => appFor({}).run({ hostname: v }), word: (v) => v },
  { name: 'exec command word', build: (v) => appFor({}).executeInNewContainer(['echo', v], { execId: 'abcdef' }), word: (v) => v },
  { name: 'exec env', build: (v) => appFor({}).executeInExistingContainer(['true'], { env: { X: v } }), word: (v) => `X=${v}` },
  { name: 'proxy host', build: (v) => appFor({ proxy: { host: v } }).deploy({ target: '172.1.0.2' }), word: (v) => `--host=${v}` },
  { name: 'maintenance message', build: (v) => appFor({}).maintenance({ message: v }), word: (v) => `--message=${v}` },
  {
    name: 'accessory env, label, option and volume',
    build: (v) =>
      new Accessory(
        newConfig({
          accessories: { db: { image: 'mysql', host: '1.1.1.1', env: { clear: { PW: v } }, labels: { l: v }, options: { memory: v }, volumes: [v] } },
        }),
        {
          name: 'db',
        },
      ).run(),
    word: (v) => `PW=${v}`,
  },
  { name: 'build arg', build: (v) => new Builder(newConfig({ builder: { arch: 'amd64', args: { ARG: v } } })).push(), word: (v) => `ARG=${v}` },
];

function appFor(raw: Record<string, any>): App {
  const config = newConfig(raw);
  return new App(config, { role: config.role('web'), host: '1.1.1.1' });
}

describe('hostile values', () => {
  for (const site of SITES) {
    for (const [label, value] of Object.entries(HOSTILE)) {
      it(`${site.name}: ${label}`, () => {
        const command = site.build(value);
        const words = splitShellWords(render(command));
        expect(words).toContain(site.word(value));
        const invocations = shellArgs(command);
        expect(invocations.flat()).toContain(site.word(value));
        expect(existsSync(marker)).toBe(false);
      });
    }
  }

  it('a role cmd is split into words like a shell would, without running anything', () => {
    const command = appFor({ servers: { web: { hosts: ['1.1.1.1'], cmd: `bin/jobs --queue 'a b' "$(touch ${marker})" \`x\`; rm -rf /` } } }).run();
    const [args] = shellArgs(command);
    expect(args!.slice(args!.indexOf('dhh/app:999'))).toEqual([
      'dhh/app:999',
      'bin/jobs',
      '--queue',
      'a b',
      `$(touch ${marker})`,
      '`x`',
      ';',
      'rm',
      '-rf',
      '/',
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it('secrets never show in the displayed command', () => {
    const command = new Registry(newConfig({ registry: { username: ['USER'], password: ['PW'] } }, { USER: 'me', PW: `p'a"s$s` })).login()!;
    expect(display(command)).toBe('docker login -u [REDACTED] --password-stdin');
    // the password goes on stdin (test/unit/commands/login-stdin.test.ts), not in the command
    expect(render(command)).not.toContain('s$s');
  });
});
