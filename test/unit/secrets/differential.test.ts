/**
 * `.kamal/secrets` resolution against Kamal 2.12's: each folder under
 * test/fixtures/secrets-differential/cases is a project (config/deploy.yml, `.kamal/secrets*`,
 * case.json with the arguments, extra environment and vendor CLIs left out), and its expected/
 * holds what `kamal secrets print` printed there with real Kamal 2.12.0 (stdout, stderr, exit
 * status, and the calls the vendor CLIs of fixtures/secrets-differential/bin received).
 * Our CLI (`secrets print --reveal`, from source through tsx) runs in a copy of each folder with
 * the same environment and stand-in vendor CLIs, and must print the same.
 *
 * Compared as Kamal's output reads on Ruby 3.4 (its image's Ruby): the recording ran on Ruby 3.1,
 * whose NoMethodError text differs (see ruby34). Kamal prints an error as
 * `  ERROR (Class): message` on stdout; ours is `Error: message` on stderr (DIFFERENCES.md).
 * DELIBERATE lists the cases where we differ on purpose, with what we print instead; JSON_2_19
 * the JSON parse errors as Kamal's own json gem words them.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEntry } from '../../../src/exec/kamal-shim.js';
import { KAMAL_ACTION_VERSION, KAMAL_COMPAT_VERSION } from '../../../src/version.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/secrets-differential');
const CASES = join(FIXTURES, 'cases');
/** The CLI from source, as the kamal shim runs it. */
const CLI = cliEntry();

interface Meta {
  args?: string[];
  env?: Record<string, string>;
  missing?: string[];
}

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  /** The error message (Kamal: the `ERROR (...)` line; ours: stderr's last line), or undefined. */
  error?: string;
  calls: string;
}

/** Ruby 3.1's NoMethodError text as Ruby 3.4 words it, without error_highlight's snippet. */
export function ruby34(message: string): string {
  const m = /^undefined method `([^']+)' for (.+?)(?:\n\n[\s\S]*)?$/.exec(message);
  if (!m) return message;
  const [, method, receiver] = m;
  const who =
    receiver === 'nil:NilClass'
      ? 'nil'
      : receiver === 'true:TrueClass'
        ? 'true'
        : receiver === 'false:FalseClass'
          ? 'false'
          : `an instance of ${receiver!.replace(/^.*:/, '')}`;
  return `undefined method '${method}' for ${who}`;
}

const ANSI_ERROR = /^ {2}\x1b\[31mERROR \(([^)]+)\): ([\s\S]*?)\x1b\[0m\n$/m;

function kamalOutcome(dir: string): Outcome {
  const read = (f: string) => readFileSync(join(dir, 'expected', f), 'utf8');
  let stdout = read('stdout');
  let error: string | undefined;
  const m = ANSI_ERROR.exec(stdout);
  if (m) {
    stdout = stdout.slice(0, m.index);
    error = ruby34(m[2]!);
  }
  let stderr = read('stderr');
  const status = Number(read('status').trim());
  if (!m && status !== 0) {
    // an exception Kamal does not rescue (dotenv's FormatError): Ruby's report with a backtrace
    const uncaught = /^[^\n]*?:\d+:in [^\n]*?: ([\s\S]*?) \(([\w:]+)\)\n(?:\tfrom [^\n]*\n)*$/.exec(stderr);
    // a Thor error in the inline `kamal secrets ...` (printed on stderr, then exit 1)
    error = uncaught ? uncaught[1]!.replaceAll('\\n', '\n') : stderr.trimEnd();
    stderr = '';
  }
  return { status, stdout, stderr, error, calls: read('calls') };
}

/**
 * What our CLI printed; an error is stderr's last line without its `Error: ` label. An inline
 * `$(kamal secrets ...)` failure is Kamal's message after the file and line (`.kamal/secrets: line 2: `);
 * the location is checked to be there and then left out of the comparison.
 */
function ourOutcome(r: { status: number; stdout: string; stderr: string; calls: string }): Outcome {
  let stderr = r.stderr;
  let error: string | undefined;
  if (r.status !== 0) {
    // the last `Error: ` line and what follows (a vendor CLI may have printed its own `Error: ` before)
    const at = [...stderr.matchAll(/^(?:Error|Configuration error): /gm)].at(-1);
    if (at) {
      error = stderr.slice(at.index + at[0].length).replace(/\n$/, '');
      stderr = stderr.slice(0, at.index);
      if (!error.includes('the command substitution failed') && !error.includes(' exports ')) {
        expect(error).toMatch(/^\.kamal\/secrets(-common|\.\w+)?: line \d+: /);
        error = error.replace(/^\.kamal\/secrets(-common|\.\w+)?: line \d+: /, '');
      }
    }
  }
  return { ...r, stderr, error };
}

/**
 * Cases where we differ from Kamal on purpose (DIFFERENCES.md, "Secrets files"), with the
 * difference as a function of Kamal's outcome.
 */
const failed =
  (error: string) =>
  (kamal: Outcome): Outcome => ({ ...kamal, status: 1, stdout: '', stderr: '', error });
const DELIBERATE: Record<string, { why: string; expect: (kamal: Outcome) => Outcome }> = {
  'command-fails': {
    why: 'a command that exits non-zero stops the run, naming file, line and exit code; Kamal takes its output and goes on',
    expect: failed('.kamal/secrets: line 2: the command substitution failed: exit code 1'),
  },
  'command-nested': {
    why: 'dotenv unescapes `\\(` before the command runs, so `echo (escaped)` is a shell syntax error: it stops the run (Kamal gets an empty value)',
    expect: failed('.kamal/secrets: line 3: the command substitution failed: exit code 2 (sh: 1: Syntax error: word unexpected (expecting ")"))'),
  },
  'command-not-found': {
    why: "a command that is not installed stops the run; Ruby's backticks raise ENOENT there, which Dotenv.parse takes for a missing file, so Kamal silently drops the whole file",
    expect: failed('.kamal/secrets: line 1: the command substitution failed: exit code 127 (sh: 1: no-such-command-xyz: not found)'),
  },
  'fetch-piped': {
    why: '`kamal secrets fetch ... | cat` runs through sh with our kamal; Kamal shellsplits it and fetches `|` and `cat` as secrets',
    expect: (kamal) => ({ ...kamal, stdout: 'A={"ONE":"ENO"}\n' }),
  },
  'command-kamal-version': {
    why: '`kamal` in a secrets shell is this CLI, which prints its own version',
    expect: (kamal) => ({ ...kamal, stdout: `A=${KAMAL_ACTION_VERSION} (compatible with Kamal ${KAMAL_COMPAT_VERSION})\n` }),
  },
  'dotenv-export-unset': {
    why: "Kamal crashes with dotenv's FormatError and a Ruby backtrace; ours is a configuration error naming the file and line",
    expect: failed('.kamal/secrets: line 1 exports NOT_SET without a value and it is not set above'),
  },
};

/**
 * The recording ran on Ruby 3.1's json 2.6, whose parse errors read `859: unexpected token at '...'`;
 * Kamal 2.12's lockfile has json 2.19.9, whose words ours follow.
 */
const JSON_2_19: Record<string, string> = {
  'extract-not-json': "unexpected token 'not' at line 1 column 1",
  'adapter-gcp-missing': 'unexpected end of input at line 1 column 1',
  // in double quotes shellsplit keeps the backslashes of the escaped JSON
  'fetch-double-quoted': "unexpected character: '\\{\"X\\' at line 1 column 1",
};

let work: string | undefined;
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function runOurs(name: string, meta: Meta): Promise<{ status: number; stdout: string; stderr: string; calls: string }> {
  work ??= mkdtempSync(join(tmpdir(), 'secrets-differential-'));
  const base = join(work, name);
  const dir = join(base, 'project');
  const bin = join(base, 'bin');
  const home = join(base, 'home');
  cpSync(join(CASES, name), dir, { recursive: true, filter: (p) => !p.startsWith(join(CASES, name, 'expected')) });
  cpSync(join(FIXTURES, 'bin'), bin, { recursive: true });
  for (const m of meta.missing ?? []) rmSync(join(bin, m));
  mkdirSync(home);
  const log = join(base, 'calls.log');
  const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: home, LANG: 'C.UTF-8', STUB_LOG: log, ...(meta.env ?? {}) };
  const norm = (s: string) => s.split(dir).join('<DIR>').split(home).join('<HOME>').split(bin).join('<BIN>');
  return new Promise((resolve, reject) => {
    const child = spawn(CLI.command, [...CLI.args, 'secrets', 'print', '--reveal', ...(meta.args ?? [])], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      const calls = existsSync(log) ? readFileSync(log, 'utf8') : '';
      resolve({ status: status ?? -1, stdout: norm(stdout), stderr: norm(stderr), calls: norm(calls) });
    });
  });
}

const names = readdirSync(CASES).sort();

describe('kamal secrets print: ours against Kamal 2.12 recorded', { timeout: 120_000 }, () => {
  it('has the corpus', () => {
    expect(names.length).toBeGreaterThanOrEqual(70);
  });

  // two at a time: each case starts node (and more for $(kamal ...) in a shell)
  it.concurrent.each(names)('%s', async (name) => {
    const meta = JSON.parse(readFileSync(join(CASES, name, 'case.json'), 'utf8')) as Meta;
    const kamal = kamalOutcome(join(CASES, name));
    if (JSON_2_19[name]) {
      expect(kamal.error).toMatch(/^\d+: unexpected token at '/);
      kamal.error = JSON_2_19[name];
    }
    const expected = DELIBERATE[name]?.expect(kamal) ?? kamal;
    const ours = ourOutcome(await runOurs(name, meta));
    expect(ours).toEqual(expected);
  });
});
