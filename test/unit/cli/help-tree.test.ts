/**
 * Every command and option of Kamal 2.12's CLI is known to ours.
 *
 * test/fixtures/kamal-help holds the output of real Kamal 2.12's help, walked recursively
 * (`kamal help`, `kamal help <command>`, `kamal <group> help`, `kamal <group> help <command>`),
 * one file per page: kamal-<group>-<command>.txt. This test reads those pages, lists each command
 * with its options (Thor's booleans also take `--no-` and `--skip-`), and checks that our command
 * tree (src/cli/program.ts) has the command and accepts each option, or refuses it with a message
 * that says what to do instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, parse, preprocessArgv } from '../../../src/cli/program.js';
import { runCli } from '../../../src/cli/run.js';
import { docsText } from '../../../src/cli/docs.js';
import { deployConfigShape } from '../../../src/config/schema.js';

const DIR = fileURLToPath(new URL('../../fixtures/kamal-help', import.meta.url));

interface KamalOption {
  long: string;
  short?: string;
  /** `--name=VALUE` (Thor string, numeric, array and hash options). */
  takesValue: boolean;
  /** Thor boolean with `--no-` and `--skip-` forms. */
  negatable: boolean;
}

interface KamalCommand {
  path: string[];
  usage: string;
  options: KamalOption[];
}

/** Options of a help page: the lines of its `Options:` block. */
function parseOptions(text: string): KamalOption[] {
  const block = text.split(/^Options:\n/m)[1] ?? '';
  const out: KamalOption[] = [];
  for (const line of block.split('\n')) {
    const m = /^\s+(?:(-\w), )?\[?(--[\w-]+)(=[^\]\s]+(?: [^\]]+)?)?\]?(, \[--no-)?/.exec(line);
    if (!m) continue;
    out.push({ short: m[1], long: m[2]!, takesValue: m[3] !== undefined, negatable: m[4] !== undefined });
  }
  return out;
}

function kamalCommands(): KamalCommand[] {
  const cmds: KamalCommand[] = [];
  for (const file of readdirSync(DIR).sort()) {
    const text = readFileSync(join(DIR, file), 'utf8');
    if (!text.startsWith('Usage:')) continue; // group pages list commands
    const path = file
      .replace(/\.txt$/, '')
      .split('-')
      .slice(1);
    const usage = /^Usage:\n {2}(.*)$/m.exec(text)![1]!;
    cmds.push({ path, usage, options: parseOptions(text) });
  }
  return cmds;
}

/** Commands listed on the group pages (`kamal help`, `kamal app help`), without `help` itself. */
function listedCommands(): string[][] {
  const out: string[][] = [];
  for (const file of readdirSync(DIR)) {
    const text = readFileSync(join(DIR, file), 'utf8');
    if (!text.startsWith('Commands:')) continue;
    for (const m of text.matchAll(/^ {2}kamal ((?:\w+ )?\w+)/gm)) {
      const path = m[1]!.split(' ');
      if (path[path.length - 1] !== 'help') out.push(path);
    }
  }
  return out;
}

function find(program: Command, path: string[]): Command | undefined {
  let c: Command | undefined = program;
  for (const name of path) c = c?.commands.find((x) => x.name() === name || x.aliases().includes(name));
  return c;
}

const kamal = kamalCommands();
const program = buildProgram(() => undefined);

/** Sample words for a command's required arguments (so a parse reaches the options). */
function requiredArgs(c: Command): string[] {
  const args = (c as unknown as { registeredArguments?: Array<{ required: boolean; variadic: boolean }> }).registeredArguments ?? [];
  return args.filter((a) => a.required).map(() => 'x');
}

/** Parses `kamal-action <path> <args> <option words>`: the invocation, the help, or the usage error's message. */
function tryParse(words: string[]): { ok: true } | { ok: false; message: string } {
  try {
    parse(words);
    return { ok: true };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

describe("Kamal 2.12's help tree", () => {
  it('is stored: every listed command has its page', () => {
    const pages = new Set(kamal.map((c) => c.path.join(' ')));
    for (const path of listedCommands()) {
      const hasPage = pages.has(path.join(' ')) || readdirSync(DIR).includes(`kamal-${path.join('-')}.txt`);
      expect(hasPage, path.join(' ')).toBe(true);
    }
    expect(kamal.length).toBeGreaterThan(60);
  });

  it('parses options from the pages', () => {
    const deploy = kamal.find((c) => c.path.join(' ') === 'deploy')!;
    expect(deploy.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--skip-push', '--no-cache', '--verbose', '--lock-wait-timeout']));
    expect(deploy.options.find((o) => o.long === '--verbose')).toEqual({ short: '-v', long: '--verbose', takesValue: false, negatable: true });
    expect(deploy.options.find((o) => o.long === '--hosts')).toEqual({ short: '-h', long: '--hosts', takesValue: true, negatable: false });
  });
});

describe('our CLI knows every command and option of Kamal 2.12', () => {
  for (const k of kamal) {
    const name = k.path.join(' ');
    it(name, () => {
      const c = find(program, k.path);
      expect(c, `kamal-action ${name}`).toBeDefined();
      const unknown: string[] = [];
      for (const o of k.options) {
        const forms = [o.long, ...(o.short ? [o.short] : []), ...(o.negatable ? [o.long.replace(/^--/, '--no-'), o.long.replace(/^--/, '--skip-')] : [])];
        for (const form of forms) {
          const value = o.takesValue && !/^--(no|skip)-/.test(form) ? ['1'] : [];
          const words = [...k.path, ...requiredArgs(c!), form, ...value];
          const r = tryParse(words);
          // accepted, or refused with a message that says what to do (not commander's "unknown option")
          if (!r.ok && (/unknown (option|command)|too many arguments|argument missing/.test(r.message) || r.message.length < 30))
            unknown.push(`${form}: ${r.message}`);
        }
      }
      expect(unknown).toEqual([]);
    });
  }
});

describe('commands of Kamal with a meaning of their own here', () => {
  async function run(args: string[]): Promise<{ exitCode: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const r = await runCli(args, { cwd: tmpdir(), env: { PATH: process.env.PATH }, out: (s) => (out += s), err: (s) => (err += s) });
    return { exitCode: r.exitCode, out, err };
  }

  it('docs: the overview, the list of sections and a link', async () => {
    const r = await run(['docs']);
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/^# Configuration \(configuration\)\n/);
    expect(r.out).toContain('Full documentation: https://kamal-deploy.org/docs/configuration/overview/\n');
    expect(r.out).toContain('Sections: accessory, alias, boot, builder, env, logging, output, proxy, registry, role, servers, ssh, sshkit');
  });

  it('docs SECTION: every section of Kamal 2.12 has a summary and a page', async () => {
    const sections: Record<string, string> = {
      accessory: 'accessories',
      alias: 'aliases',
      boot: 'booting',
      builder: 'builders',
      configuration: 'overview',
      env: 'environment-variables',
      logging: 'logging',
      output: 'overview',
      proxy: 'proxy',
      registry: 'registry',
      role: 'roles',
      servers: 'servers',
      ssh: 'ssh',
      sshkit: 'sshkit',
    };
    for (const [section, page] of Object.entries(sections)) {
      const r = await run(['docs', section]);
      expect(r.out, section).toContain(`Full documentation: https://kamal-deploy.org/docs/configuration/${page}/\n`);
      expect(r.out, section).toMatch(/\nKeys:\n {2}\S/);
    }
    // Kamal finds the section by its class name (`docs Proxy`); plurals are accepted too
    expect((await run(['docs', 'Proxy'])).out).toMatch(/^# Proxy \(proxy\)/);
    expect((await run(['docs', 'accessories'])).out).toMatch(/^# Accessories \(accessory\)/);
  });

  it('docs with an unknown section says so, as Kamal', async () => {
    const r = await run(['docs', 'nope']);
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/^No documentation found for nope\nSections: /);
  });

  it('init --bundle is refused with what to do', async () => {
    const r = await run(['init', '--bundle']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('kamal-action is not a Ruby gem. Run `kamal-action init` without --bundle');
    const again = await run(['init', '--no-bundle', '--help']);
    expect(again.exitCode).toBe(0);
  });
});

describe("Thor's negated booleans mean false", () => {
  const opts = (words: string[]) => (parse(words) as unknown as { opts: Record<string, unknown> }).opts;

  it('--no-NAME and --skip-NAME turn off a flag given before them', () => {
    expect(opts(['deploy', '--verbose', '--no-verbose']).verbose).toBe(false);
    expect(opts(['deploy', '-v']).verbose).toBe(true);
    expect(opts(['deploy', '--skip-quiet']).quiet).toBe(false);
    expect(opts(['remove', '--no-confirmed']).confirmed).toBe(false);
  });

  it('a negation that is an option of its own is left alone', () => {
    expect(preprocessArgv(['deploy', '--no-cache', '--skip-push'])).toEqual(['deploy', '--no-cache', '--skip-push']);
  });

  it('--skip-publish is --no-publish; --no-debug of `--debug [bool]` is --debug=false', () => {
    expect(preprocessArgv(['proxy', 'boot_config', 'set', '--skip-publish', '--no-debug'])).toEqual([
      'proxy',
      'boot_config',
      'set',
      '--no-publish',
      '--debug=false',
    ]);
  });

  it('words that are not negations of our booleans are kept (a command of server exec)', () => {
    expect(preprocessArgv(['server', 'exec', 'ls', '--no-color'])).toEqual(['server', 'exec', 'ls', '--no-color']);
  });
});

describe('docs names every key of the configuration', () => {
  it('each top-level key of config/deploy.yml is listed in `docs`', () => {
    const text = docsText().text;
    for (const key of Object.keys(deployConfigShape)) expect(text, key).toMatch(new RegExp(`\\b${key}\\b`));
  });
});
