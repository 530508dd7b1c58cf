// `kamal` on the PATH of hooks and secrets shells: the script's text, the settings it carries,
// the CLI reading them back as defaults, and a hook that runs `kamal` getting this CLI with
// the run's config file, destination and SSH settings.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliEntry,
  findOnPath,
  isShim,
  KamalShim,
  MAX_SHIM_DEPTH,
  pathWith,
  shimScript,
  shimSettings,
  writeShims,
  type CliEntry,
} from '../../../src/exec/kamal-shim.js';
import { runCli } from '../../../src/cli/run.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { KAMAL_ACTION_VERSION } from '../../../src/version.js';
import { ROOT } from '../../e2e/helpers.js';
import { copyFixture, testEnv } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'kamal-shim-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An entry that prints what the CLI would receive: its arguments and the KAMAL_ACTION_* environment. */
const PRINTER = join(tmp, 'printer.sh');
writeFileSync(PRINTER, '#!/bin/sh\nfor a in "$@"; do echo "arg=$a"; done\nenv | grep ^KAMAL_ACTION_ | sort\n');
chmodSync(PRINTER, 0o755);
const printer: CliEntry = { command: '/bin/sh', args: [PRINTER] };

describe('cliEntry', () => {
  it.each<[string, string, CliEntry]>([
    [
      'from source: main.ts through tsx',
      '/repo/src/exec/kamal-shim.ts',
      { command: '/node', args: ['--import', 'file:///repo/node_modules/tsx/dist/loader.mjs', '/repo/src/cli/main.ts'] },
    ],
    ['the CLI bundle', '/action/dist/cli/index.js', { command: '/node', args: ['/action/dist/cli/index.js'] }],
    ["the action's bundle runs the CLI bundle", '/action/dist/action/index.js', { command: '/node', args: ['/action/dist/cli/index.js'] }],
  ])('%s', (_n, file, entry) => {
    expect(cliEntry(file, '/node')).toEqual(entry);
  });

  it('from this checkout, the entry files exist', () => {
    const e = cliEntry();
    expect(e.command).toBe(process.execPath);
    expect(existsSync(new URL(e.args[1]!))).toBe(true);
    expect(e.args[2]).toBe(join(ROOT, 'src/cli/main.ts'));
  });
});

describe('shimSettings', () => {
  it.each<[string, Parameters<typeof shimSettings>[0], Record<string, string>, object]>([
    ['defaults', {}, {}, { configFile: '/p/config/deploy.yml' }],
    [
      'flags, paths made absolute',
      { configFile: 'c/x.yml', destination: 'staging', hostKeyChecking: 'accept-new', knownHostsFile: 'kh' },
      { KAMAL_ACTION_SSH_KEY: 'keys/id' },
      { configFile: '/p/c/x.yml', destination: 'staging', hostKeyChecking: 'accept-new', knownHosts: '/p/kh', sshKey: '/p/keys/id' },
    ],
    [
      'the environment when no flag is given',
      {},
      {
        KAMAL_ACTION_CONFIG_FILE: '/abs/deploy.yml',
        KAMAL_ACTION_DESTINATION: 'prod',
        KAMAL_ACTION_HOST_KEY_CHECKING: 'strict',
        KAMAL_ACTION_KNOWN_HOSTS: '/k',
      },
      { configFile: '/abs/deploy.yml', destination: 'prod', hostKeyChecking: 'strict', knownHosts: '/k' },
    ],
    [
      'flags win over the environment',
      { destination: 'qa', configFile: 'mine.yml' },
      { KAMAL_ACTION_DESTINATION: 'prod', KAMAL_ACTION_CONFIG_FILE: '/abs.yml' },
      { destination: 'qa', configFile: '/p/mine.yml' },
    ],
  ])('%s', (_n, opts, env, expected) => {
    const s = shimSettings(opts, env, '/p');
    expect(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined))).toEqual(expected);
  });
});

describe('shimScript', () => {
  it('exports every setting it has, unsets the others, counts the depth and execs the entry', () => {
    expect(
      shimScript(
        { configFile: "/w/it's/deploy.yml", destination: 'staging', knownHosts: '/tmp/kh' },
        { command: '/usr/bin/node', args: ['/a b/dist/cli/index.js'] },
      ),
    ).toBe(
      [
        '#!/bin/sh',
        '# kamal-action shim',
        "export KAMAL_ACTION_CONFIG_FILE='/w/it'\\''s/deploy.yml'",
        'export KAMAL_ACTION_DESTINATION=staging',
        'unset KAMAL_ACTION_HOST_KEY_CHECKING',
        'export KAMAL_ACTION_KNOWN_HOSTS=/tmp/kh',
        'unset KAMAL_ACTION_SSH_KEY',
        'KAMAL_ACTION_SHIM_DEPTH=$((${KAMAL_ACTION_SHIM_DEPTH:-0} + 1))',
        `if [ "$KAMAL_ACTION_SHIM_DEPTH" -gt ${MAX_SHIM_DEPTH} ]; then`,
        `  echo "kamal: nested more than ${MAX_SHIM_DEPTH} deep (a hook or .kamal/secrets running kamal that runs it again?)" >&2`,
        '  exit 1',
        'fi',
        'export KAMAL_ACTION_SHIM_DEPTH',
        'exec /usr/bin/node \'/a b/dist/cli/index.js\' "$@"',
        '',
      ].join('\n'),
    );
  });

  it('runs the entry with the arguments as given and the settings, replacing outer values', () => {
    const dir = mkdtempSync(join(tmp, 'run-'));
    const [file] = writeShims(dir, { configFile: '/w/config/deploy.yml', destination: 'staging', sshKey: '/k/id key' }, ['kamal'], printer);
    const out = execFileSync(file!, ['proxy', 'boot_config', 'set', '--publish', 'false', 'two words', '$HOME', ''], {
      env: { PATH: process.env.PATH, KAMAL_ACTION_DESTINATION: 'outer', KAMAL_ACTION_KNOWN_HOSTS: '/outer/kh' },
    }).toString();
    expect(out).toBe(
      [
        'arg=proxy',
        'arg=boot_config',
        'arg=set',
        'arg=--publish',
        'arg=false',
        'arg=two words',
        'arg=$HOME',
        'arg=',
        'KAMAL_ACTION_CONFIG_FILE=/w/config/deploy.yml',
        'KAMAL_ACTION_DESTINATION=staging',
        'KAMAL_ACTION_SHIM_DEPTH=1',
        'KAMAL_ACTION_SSH_KEY=/k/id key',
        '',
      ].join('\n'),
    );
  });

  it(`stops a run nested more than ${MAX_SHIM_DEPTH} deep`, () => {
    const dir = mkdtempSync(join(tmp, 'deep-'));
    const [file] = writeShims(dir, {}, ['kamal'], printer);
    const ok = spawnSync(file!, ['x'], { env: { PATH: process.env.PATH, KAMAL_ACTION_SHIM_DEPTH: String(MAX_SHIM_DEPTH - 1) } });
    expect(ok.status).toBe(0);
    expect(ok.stdout.toString()).toContain(`KAMAL_ACTION_SHIM_DEPTH=${MAX_SHIM_DEPTH}`);
    const deep = spawnSync(file!, ['x'], { env: { PATH: process.env.PATH, KAMAL_ACTION_SHIM_DEPTH: String(MAX_SHIM_DEPTH) } });
    expect(deep.status).toBe(1);
    expect(deep.stdout.toString()).toBe('');
    expect(deep.stderr.toString()).toMatch(/nested more than 8 deep/);
  });
});

describe('KamalShim', () => {
  it('writes kamal and kamal-action into a private folder on first use, and removes it on dispose', () => {
    const shim = new KamalShim({ destination: 'd' }, printer, join(tmp, 'base'));
    expect(existsSync(join(tmp, 'base'))).toBe(false);
    const dir = shim.dir();
    expect(shim.dir()).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of ['kamal', 'kamal-action']) {
      expect(statSync(join(dir, name)).mode & 0o777).toBe(0o700);
      expect(isShim(join(dir, name))).toBe(true);
    }
    expect(readFileSync(shim.kamal, 'utf8')).toBe(shimScript({ destination: 'd' }, printer));
    shim.dispose();
    expect(existsSync(dir)).toBe(false);
    // used again, it is written again
    expect(existsSync(shim.dir())).toBe(true);
    shim.dispose();
  });

  it('the real entry runs this CLI', () => {
    const shim = new KamalShim({});
    try {
      expect(execFileSync(shim.kamal, ['version'], { env: { PATH: process.env.PATH, HOME: process.env.HOME } }).toString()).toMatch(
        new RegExp(`^${KAMAL_ACTION_VERSION.replace(/\./g, '\\.')} \\(compatible with Kamal `),
      );
    } finally {
      shim.dispose();
    }
  });
});

describe('findOnPath and isShim', () => {
  it('finds the first executable file, skipping folders, plain files and relative entries', () => {
    const a = join(tmp, 'pa');
    const b = join(tmp, 'pb');
    const c = join(tmp, 'pc');
    for (const d of [a, b, c]) mkdirSync(d);
    mkdirSync(join(a, 'kamal')); // a folder
    writeFileSync(join(b, 'kamal'), 'not executable');
    writeFileSync(join(c, 'kamal'), '#!/bin/sh\n');
    chmodSync(join(c, 'kamal'), 0o755);
    expect(findOnPath('kamal', ['relative', a, b, c].join(':'))).toBe(join(c, 'kamal'));
    expect(findOnPath('kamal', a)).toBeUndefined();
    expect(findOnPath('kamal', undefined)).toBeUndefined();
    expect(isShim(join(c, 'kamal'))).toBe(false);
    expect(isShim(join(tmp, 'missing'))).toBe(false);
  });

  it("pathWith puts the folder first, or before the shell's default path", () => {
    expect(pathWith('/s', '/usr/bin:/bin')).toBe('/s:/usr/bin:/bin');
    expect(pathWith('/s', undefined)).toBe('/s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});

describe('the CLI reads the settings back as defaults', () => {
  const run = async (args: string[], env: Record<string, string | undefined>) => {
    const dir = copyFixture();
    let err = '';
    const reporter = new MemoryReporter();
    const r = await runCli(args, { cwd: dir, env: { ...testEnv(), ...env }, err: (s) => (err += s), reporter });
    return { ...r, out: reporter.text, err, dir };
  };

  it('KAMAL_ACTION_CONFIG_FILE and KAMAL_ACTION_DESTINATION when -c and -d are not given', async () => {
    const r = await run(['config', '--version', 'v1'], { KAMAL_ACTION_DESTINATION: 'staging' });
    expect(r.err).toBe('');
    expect(r.out).toContain('- 10.1.0.1');
    const moved = await run(['config', '--version', 'v1'], { KAMAL_ACTION_CONFIG_FILE: '/nowhere/deploy.yml' });
    expect(moved.err).toMatch(/Configuration file not found in \/nowhere\/deploy\.yml/);
  });

  it("aliases are looked up in KAMAL_ACTION_CONFIG_FILE's config", async () => {
    const dir = copyFixture();
    mkdirSync(join(dir, 'deploy'));
    writeFileSync(join(dir, 'deploy/other.yml'), `${readFileSync(join(dir, 'config/deploy.yml'), 'utf8')}\naliases:\n  cfg: config --version v9\n`);
    rmSync(join(dir, 'config/deploy.yml'));
    let err = '';
    const reporter = new MemoryReporter();
    const r = await runCli(['cfg'], {
      cwd: dir,
      env: { ...testEnv(), KAMAL_ACTION_CONFIG_FILE: join(dir, 'deploy/other.yml') },
      err: (s) => (err += s),
      reporter,
    });
    expect(err).toBe('');
    expect(r.exitCode).toBe(0);
    expect(reporter.text).toContain(':version: v9');
  });

  it('flags win', async () => {
    const r = await run(['config', '--version', 'v1', '-d', 'production', '-c', 'config/deploy.yml'], {
      KAMAL_ACTION_DESTINATION: 'staging',
      KAMAL_ACTION_CONFIG_FILE: '/nowhere/deploy.yml',
    });
    expect(r.err).toBe('');
    expect(r.out).not.toContain('- 10.1.0.1');
  });
});

describe('hooks', () => {
  it("run with our kamal first on PATH, which acts on the run's config, destination and SSH settings", async () => {
    const dir = copyFixture();
    const record = join(dir, 'hook-record');
    // another kamal on the PATH given to the run: the hook must not get it
    const other = join(tmp, 'other-kamal');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'kamal'), '#!/bin/sh\necho another kamal\n');
    chmodSync(join(other, 'kamal'), 0o755);
    writeFileSync(
      join(dir, '.kamal/hooks/pre-connect'),
      `#!/bin/sh
{
  echo "first=$(echo "$PATH" | cut -d: -f1)"
  echo "which=$(command -v kamal)"
  echo "destination=$KAMAL_DESTINATION lock=$KAMAL_LOCK"
  grep ^export "$(command -v kamal)"
  kamal config --version v1 | grep -c '10.1.0.1'
} > ${record} 2>&1
true
`,
    );
    chmodSync(join(dir, '.kamal/hooks/pre-connect'), 0o755);
    const runner = new RecordingRunner(() => ({ stdout: '' }));
    let err = '';
    const r = await runCli(['app', 'version', '-d', 'staging', '--known-hosts', 'kh', '--host-key-checking', 'accept-new', '--version', 'v1'], {
      cwd: dir,
      env: { ...testEnv(), PATH: `${other}:${process.env.PATH}`, KAMAL_ACTION_SSH_KEY: '/keys/id' },
      runner,
      reporter: new MemoryReporter(),
      err: (s) => (err += s),
    });
    expect(err).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = readFileSync(record, 'utf8').split('\n');
    const first = lines[0]!.slice('first='.length);
    expect(first).toMatch(/kamal-shim-/);
    expect(lines.slice(1)).toEqual([
      `which=${first}/kamal`,
      'destination=staging lock=false',
      `export KAMAL_ACTION_CONFIG_FILE=${join(dir, 'config/deploy.yml')}`,
      'export KAMAL_ACTION_DESTINATION=staging',
      'export KAMAL_ACTION_HOST_KEY_CHECKING=accept-new',
      `export KAMAL_ACTION_KNOWN_HOSTS=${join(dir, 'kh')}`,
      'export KAMAL_ACTION_SSH_KEY=/keys/id',
      'export KAMAL_ACTION_SHIM_DEPTH',
      // the nested `kamal config` read the staging file: both web hosts' lines name 10.1.0.1 once
      expect.stringMatching(/^[1-9]\d*$/),
      '',
    ]);
    // the folder is gone once the run ended
    expect(existsSync(first)).toBe(false);
  });
});
