// .kamal/secrets* as Kamal::Secrets reads them: Dotenv.parse(file, overwrite:
// true) per file (dotenv 3.x), `-common` first, Kamal's inline command
// substitution for `$(...)`. The first block ports every test in Kamal's
// test/secrets_test.rb (v2.12.0); with_test_secrets becomes a temp directory
// passed as cwd, ENV an explicit env.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileSecretStore, parseDotenv, plainWords, type CommandRunner, type KamalCommand, type LoadSecretsOptions } from '../../../src/config/secrets.js';
import type { VendorRunner } from '../../../src/secrets/adapters/index.js';
import { configError, project, removeProjects } from './helpers.js';

afterAll(removeProjects);

/** Kamal's with_test_secrets: files under .kamal/. */
function withTestSecrets(files: Record<string, string> = {}): string {
  return project(Object.fromEntries(Object.entries(files).map(([name, text]) => [`.kamal/${name}`, text])));
}

function store(cwd: string, opts: Partial<LoadSecretsOptions> = {}): FileSecretStore {
  return new FileSecretStore({ cwd, env: {}, ...opts });
}

/** Kamal's Secrets#[]: the value, or the ConfigurationError message. */
function fetch(s: FileSecretStore, key: string): string {
  const secret = s.get(key);
  if (secret === undefined) throw new Error(s.missing(key));
  return secret.reveal();
}

describe('Kamal test/secrets_test.rb', () => {
  it('fetch', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET=ABC' });
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets' }), 'SECRET')).toBe('ABC');
  });

  it('synchronized_fetch: the files are read once, on first use', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET=$(count)' });
    const run = vi.fn<CommandRunner>(() => 'ABC\n');
    const s = store(cwd, { run });
    expect(run).not.toHaveBeenCalled();
    expect(fetch(s, 'SECRET')).toBe('ABC');
    expect(fetch(s, 'SECRET')).toBe('ABC');
    expect(s.keys()).toEqual(['SECRET']);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('key?', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET1=ABC' });
    expect(store(cwd).get('SECRET1')).toBeDefined();
    expect(store(cwd).get('SECRET2')).toBeUndefined();
  });

  it('command interpolation', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET=$(echo ABC)' });
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets' }), 'SECRET')).toBe('ABC');
  });

  it('variable references', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET1=ABC\nSECRET2=${SECRET1}DEF' });
    expect(fetch(store(cwd), 'SECRET1')).toBe('ABC');
    expect(fetch(store(cwd), 'SECRET2')).toBe('ABCDEF');
  });

  it('env references', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET1=$SECRET1' });
    expect(fetch(store(cwd, { env: { SECRET1: 'ABC' } }), 'SECRET1')).toBe('ABC');
  });

  it('secrets file value overrides env', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET1=DEF' });
    expect(fetch(store(cwd, { env: { SECRET1: 'ABC' } }), 'SECRET1')).toBe('DEF');
  });

  it('destinations', () => {
    const cwd = withTestSecrets({ 'secrets.dest': 'SECRET=DEF', secrets: 'SECRET=ABC', 'secrets-common': 'SECRET=GHI\nSECRET2=JKL' });
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets' }), 'SECRET')).toBe('ABC');
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets', destination: 'dest' }), 'SECRET')).toBe('DEF');
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets', destination: 'nodest' }), 'SECRET')).toBe('GHI');

    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets' }), 'SECRET2')).toBe('JKL');
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets', destination: 'dest' }), 'SECRET2')).toBe('JKL');
    expect(fetch(store(cwd, { secretsPath: '.kamal/secrets', destination: 'nodest' }), 'SECRET2')).toBe('JKL');
  });

  it('no secrets files', () => {
    const cwd = withTestSecrets();
    expect(() => fetch(store(cwd, { secretsPath: '.kamal/secrets' }), 'SECRET')).toThrow(
      new Error("Secret 'SECRET' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided"),
    );
    expect(() => fetch(store(cwd, { secretsPath: '.kamal/secrets', destination: 'dest' }), 'SECRET')).toThrow(
      new Error("Secret 'SECRET' not found, no secret files (.kamal/secrets-common, .kamal/secrets.dest) provided"),
    );
  });

  it('custom secrets_path', () => {
    const cwd = project({ 'custom/path/secrets': 'SECRET=CUSTOM' });
    expect(fetch(store(cwd, { secretsPath: 'custom/path/secrets' }), 'SECRET')).toBe('CUSTOM');
  });

  it('custom secrets_path with destination', () => {
    const cwd = project({ 'custom/path/secrets': 'SECRET=BASE', 'custom/path/secrets.prod': 'SECRET=PROD' });
    expect(fetch(store(cwd, { secretsPath: 'custom/path/secrets' }), 'SECRET')).toBe('BASE');
    expect(fetch(store(cwd, { secretsPath: 'custom/path/secrets', destination: 'prod' }), 'SECRET')).toBe('PROD');
  });

  it('custom secrets_path with common file', () => {
    const cwd = project({ 'custom/path/secrets-common': 'COMMON=SHARED\nSECRET=COMMON', 'custom/path/secrets': 'SECRET=OVERRIDE' });
    const s = store(cwd, { secretsPath: 'custom/path/secrets' });
    expect(fetch(s, 'COMMON')).toBe('SHARED');
    expect(fetch(s, 'SECRET')).toBe('OVERRIDE');
  });

  it('default secrets_path', () => {
    const cwd = withTestSecrets({ secrets: 'SECRET=ABC' });
    expect(fetch(store(cwd), 'SECRET')).toBe('ABC');
  });

  it('custom secrets_path error message', () => {
    const cwd = project();
    expect(() => fetch(store(cwd, { secretsPath: 'custom/path/secrets' }), 'SECRET')).toThrow(
      new Error("Secret 'SECRET' not found, no secret files (custom/path/secrets-common, custom/path/secrets) provided"),
    );
  });
});

describe('FileSecretStore', () => {
  it('names the files it read when a key is missing', () => {
    const cwd = withTestSecrets({ secrets: 'A=1', 'secrets-common': 'B=2' });
    expect(store(cwd).missing('NOPE')).toBe("Secret 'NOPE' not found in .kamal/secrets-common, .kamal/secrets");
    expect(store(cwd, { destination: 'prod' }).missing('NOPE')).toBe("Secret 'NOPE' not found in .kamal/secrets-common");
    expect(store(cwd).files).toEqual(['.kamal/secrets-common', '.kamal/secrets']);
    expect(store(cwd, { destination: 'prod' }).filenames).toEqual(['.kamal/secrets-common', '.kamal/secrets.prod']);
  });

  it('lists keys in definition order, common first', () => {
    const cwd = withTestSecrets({ 'secrets-common': 'C=1\nA=2', secrets: 'B=3\nA=4' });
    const s = store(cwd);
    expect(s.keys()).toEqual(['C', 'A', 'B']);
    expect(s.keys().map((k) => fetch(s, k))).toEqual(['1', '4', '3']);
  });

  it('values never render as themselves', () => {
    const cwd = withTestSecrets({ secrets: 'TOKEN=hunter2' });
    const secret = store(cwd).get('TOKEN')!;
    expect(String(secret)).toBe('[REDACTED]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[REDACTED]"}');
    expect(secret.name).toBe('TOKEN');
  });

  it("parses each file on its own: $VAR does not see an earlier file's keys (Dotenv.parse per file)", () => {
    const cwd = withTestSecrets({ 'secrets-common': 'A=common', secrets: 'B=[$A]' });
    expect(fetch(store(cwd), 'B')).toBe('[]');
    expect(fetch(store(cwd, { env: { A: 'env' } }), 'B')).toBe('[env]');
  });

  describe('extra values (action inputs)', () => {
    it('override the files, and their lines are not evaluated', () => {
      const cwd = withTestSecrets({ 'secrets-common': 'A=$(from-common)\nC=common', secrets: 'A=$(from-secrets)\nB=$(other)' });
      const run = vi.fn<CommandRunner>(() => 'ran');
      const s = store(cwd, { extra: { A: 'given' }, run });
      expect(fetch(s, 'A')).toBe('given');
      expect(fetch(s, 'B')).toBe('ran');
      expect(fetch(s, 'C')).toBe('common');
      expect(run.mock.calls.map((c) => c[0])).toEqual(['other']);
    });

    it('are seen by $VAR and by commands', () => {
      const cwd = withTestSecrets({ secrets: 'URL=https://u:${PASS}@h\nOUT=$(show)' });
      const run = vi.fn<CommandRunner>((_cmd, env) => `${env.PASS}\n`);
      const s = store(cwd, { extra: { PASS: 'pw' }, env: { PASS: 'env' }, run });
      expect(fetch(s, 'URL')).toBe('https://u:pw@h');
      expect(fetch(s, 'OUT')).toBe('pw');
    });

    it('are secrets even without any file', () => {
      const s = store(project(), { extra: { ONLY: 'x' } });
      expect(fetch(s, 'ONLY')).toBe('x');
      expect(s.keys()).toEqual(['ONLY']);
    });
  });

  it("load() surfaces an inline command's failure as a ConfigError: file, line and Kamal's message", () => {
    const cwd = withTestSecrets({ secrets: 'A=1\nB=$(kamal secrets extract B \'{"A":"x"}\')' });
    expect(configError(() => store(cwd).load()).message).toBe('.kamal/secrets: line 2: Could not find secret B');
  });

  it('refuses a binary secrets file', () => {
    const cwd = project({ '.kamal/secrets': Buffer.from([0x41, 0x3d, 0x00]) as unknown as string });
    expect(configError(() => store(cwd).load()).message).toBe('.kamal/secrets: is a binary file, not dotenv text');
  });
});

const ENV = { HOME: '/home/u', E1: 'envval', SECRETS: '{"DB":"pw"}' };
const echoRun: CommandRunner = (cmd) => `ran<${cmd}>\n`;

describe('parseDotenv: syntax (dotenv 3)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['plain', 'A=1\nB=two', { A: '1', B: 'two' }],
    ['spaces around =', 'A = spaced ', { A: 'spaced' }],
    ['a colon separator', 'A: 1', { A: '1' }],
    ['export prefix', 'export A=1', { A: '1' }],
    ['export of a key set above', 'A=1\nexport A', { A: '1' }],
    ['an empty value', 'A=', { A: '' }],
    ['a key alone', 'A', { A: '' }],
    ['a comment line', '# full line\nA=1', { A: '1' }],
    ['an inline comment', 'A=1 # comment', { A: '1' }],
    ['a # without a space starts a comment too', 'A=abc#def', { A: 'abc' }],
    ['a # inside double quotes', 'A="1 # not a comment"', { A: '1 # not a comment' }],
    ['a comment after a closing quote', "A='x' # c", { A: 'x' }],
    ['single quotes: no expansion at all', "A='$E1 \\n $(echo x)'", { A: '$E1 \\n $(echo x)' }],
    ['single quotes keep double quotes', 'A=\'sq "x"\'', { A: 'sq "x"' }],
    ['double quotes: \\n stays backslash-n (dotenv 3)', 'A="x\\ny"', { A: 'x\\ny' }],
    ['double quotes: \\r stays backslash-r (dotenv 3)', 'A="x\\ry"', { A: 'x\\ry' }],
    ['double quotes: an escaped quote', 'A="a\\"b"', { A: 'a"b' }],
    ['double quotes: a real newline', 'A="multi\nline"\nB=1', { A: 'multi\nline', B: '1' }],
    ['double quotes expand variables', 'A="$E1"', { A: 'envval' }],
    ['unquoted backslashes are dropped', 'A=a\\tb\\n', { A: 'atbn' }],
    ['DOTENV_LINEBREAK_MODE=legacy in the file expands \\n', 'DOTENV_LINEBREAK_MODE=legacy\nA="x\\ny\\rz"', { DOTENV_LINEBREAK_MODE: 'legacy', A: 'x\ny\rz' }],
    ['later definitions win', 'A=1\nA=2', { A: '2' }],
    ['CRLF line ends', 'A=1\r\nB=2\r\n', { A: '1', B: '2' }],
    ['CR line ends', 'A=1\rB=2', { A: '1', B: '2' }],
    ['dots in keys', 'A.B=1', { 'A.B': '1' }],
    ['a dash is not a key character', 'A-B=1', {}],
    ['__proto__ and constructor are ordinary keys', '__proto__=1\nconstructor=$constructor', JSON.parse('{"__proto__":"1","constructor":""}')],
  ])('%s', (_n, text, expected) => {
    const parsed = parseDotenv(text, { env: ENV, run: echoRun });
    expect(parsed).toEqual(expected);
    expect(Object.keys(parsed)).toEqual(Object.keys(expected));
  });

  it('DOTENV_LINEBREAK_MODE=legacy in the environment expands \\n', () => {
    expect(parseDotenv('A="x\\ny"', { env: { DOTENV_LINEBREAK_MODE: 'legacy' } })).toEqual({ A: 'x\ny' });
  });

  it('refuses an export of an unset key', () => {
    expect(configError(() => parseDotenv('A=1\n\nexport B', { env: {} })).message).toBe(
      '.kamal/secrets: line 3 exports B without a value and it is not set above',
    );
  });
});

describe('parseDotenv: variables', () => {
  it.each<[string, string, Record<string, string>]>([
    ['$VAR from the environment', 'A=$E1', { A: 'envval' }],
    ['${VAR} from the environment', 'A=${E1}x', { A: 'envvalx' }],
    ['an earlier key wins over the environment', 'E1=file\nA=$E1', { E1: 'file', A: 'file' }],
    ['a later key is not seen', 'A=[$B]\nB=1', { A: '[]', B: '1' }],
    ['twice in a row', 'A=1\nB=$A$A', { A: '1', B: '11' }],
    ['an unset variable is empty', 'A=$UNDEFINED.', { A: '.' }],
    ['an unclosed brace still expands', 'A=${E1', { A: 'envval' }],
    ['a lone $', 'A=$', { A: '$' }],
    ['an escaped \\$ is literal', 'A=\\$E1', { A: '$E1' }],
    ['an escaped \\$ in double quotes', 'A="\\$E1 costs \\$5"', { A: '$E1 costs $5' }],
    ['lowercase names (the regex is case-insensitive)', 'a=1\nB=$a', { a: '1', B: '1' }],
    ['a constructor reference is empty', 'A=[$constructor][$toString]', { A: '[][]' }],
  ])('%s', (_n, text, expected) => {
    expect(parseDotenv(text, { env: ENV, run: echoRun })).toEqual(expected);
  });

  it('a variable holding $(...) is not run', () => {
    const run = vi.fn<CommandRunner>(() => 'RAN');
    expect(parseDotenv('A=$EVIL\nB="${EVIL}"', { env: { EVIL: '$(touch /tmp/pwned)' }, run })).toEqual({
      A: '$(touch /tmp/pwned)',
      B: '$(touch /tmp/pwned)',
    });
    expect(run).not.toHaveBeenCalled();
  });

  it('a key holding $(...) is not run when referenced', () => {
    const run = vi.fn<CommandRunner>(() => 'RAN');
    expect(parseDotenv("A='$(id)'\nB=$A", { env: {}, run })).toEqual({ A: '$(id)', B: '$(id)' });
    expect(run).not.toHaveBeenCalled();
  });
});

describe('parseDotenv: command substitution', () => {
  it.each<[string, string, Record<string, string>, string[]]>([
    ['a command', 'A=$(echo hi)', { A: 'ran<echo hi>' }, ['echo hi']],
    ['variables inside the command are expanded first', 'A=$(echo $E1)', { A: 'ran<echo envval>' }, ['echo envval']],
    ['inside double quotes', 'A="x $(cmd) y"', { A: 'x ran<cmd> y' }, ['cmd']],
    ['two commands', 'A=$(a)-$(b)', { A: 'ran<a>-ran<b>' }, ['a', 'b']],
    ['nested parentheses', 'A=$(echo (x))', { A: 'ran<echo (x)>' }, ['echo (x)']],
    ['an escaped \\$( is not run', 'A=\\$(echo hi)', { A: '$(echo hi)' }, []],
    ['an empty $() is not a command; later ones still run', 'A=$() $(echo hi)', { A: '$() ran<echo hi>' }, ['echo hi']],
    ['an unbalanced $( is kept', 'A=$(echo', { A: '$(echo' }, []],
    ['single quotes are not run', "A='$(echo hi)'", { A: '$(echo hi)' }, []],
  ])('%s', (_n, text, expected, commands) => {
    const run = vi.fn<CommandRunner>(echoRun);
    expect(parseDotenv(text, { env: ENV, run })).toEqual(expected);
    expect(run.mock.calls.map((c) => c[0])).toEqual(commands);
  });

  it('only the last newline of the output is dropped (chomp)', () => {
    expect(parseDotenv('A=$(x)', { env: {}, run: () => 'l1\nl2\n\n' })).toEqual({ A: 'l1\nl2\n' });
  });

  it('the output is not expanded again', () => {
    expect(parseDotenv('A=$(pw)', { env: { word: 'X' }, run: () => 'pa$word\n' })).toEqual({ A: 'pa$word' });
  });

  it('commands get the environment', () => {
    const run = vi.fn<CommandRunner>(() => '');
    parseDotenv('A=$(x)', { env: { ONLY: 'me' }, run });
    expect(run).toHaveBeenCalledWith('x', { ONLY: 'me' });
  });

  it('a failing runner is a ConfigError naming the file and line', () => {
    const run: CommandRunner = () => {
      throw new Error('exit code 3');
    };
    expect(configError(() => parseDotenv('A=1\nB=$(false)', { env: {}, run, file: '.kamal/secrets.prod' })).message).toBe(
      '.kamal/secrets.prod: line 2: the command substitution failed: exit code 3',
    );
  });

  describe('through the real /bin/sh', () => {
    it('runs the command', () => {
      expect(parseDotenv('A=$(echo ABC)\nB="$(printf \'%s-%s\' x y)"', { env: { PATH: process.env.PATH } })).toEqual({ A: 'ABC', B: 'x-y' });
    });

    it('with the given environment only', () => {
      expect(parseDotenv('A=$(printenv ONLY_HERE)\nB=[$(printenv HOME || true)]', { env: { ONLY_HERE: 'yes', PATH: process.env.PATH } })).toEqual({
        A: 'yes',
        B: '[]',
      });
    });

    it('reports a failing command with its exit code and stderr', () => {
      const cwd = withTestSecrets({ secrets: 'OK=1\nBAD=$(echo oops >&2; exit 3)' });
      expect(configError(() => store(cwd, { env: { PATH: process.env.PATH } }).load()).message).toBe(
        '.kamal/secrets: line 2: the command substitution failed: exit code 3 (oops)',
      );
    });
  });
});

describe('kamal secrets extract (inline)', () => {
  it.each<[string, string, Record<string, string>]>([
    ['a JSON literal', 'DB=$(kamal secrets extract DB \'{"DB":"pw"}\')', { DB: 'pw' }],
    ['a key ending in /NAME', 'DB=$(kamal secrets extract DB \'{"vault/item/DB":"pw2"}\')', { DB: 'pw2' }],
    [
      'from an earlier key holding shell-escaped JSON',
      'SECRETS=\'\\{\\"DB\\":\\"pw3\\"\\}\'\nDB=$(kamal secrets extract DB ${SECRETS})',
      { SECRETS: '\\{\\"DB\\":\\"pw3\\"\\}', DB: 'pw3' },
    ],
    ['in double quotes', 'DB="$(kamal secrets extract DB \'{"DB":"x y"}\')"', { DB: 'x y' }],
  ])('%s', (_n, text, expected) => {
    const run = vi.fn<CommandRunner>(() => 'should not run');
    expect(parseDotenv(text, { env: {}, run })).toEqual(expected);
    expect(run).not.toHaveBeenCalled();
  });

  it.each<[string, string, string]>([
    ['a missing name', 'A=$(kamal secrets extract NOPE \'{"DB":"pw"}\')', 'Could not find secret NOPE'],
    ['an inherited name', "A=$(kamal secrets extract constructor '{}')", 'Could not find secret constructor'],
    ['a false value', 'A=$(kamal secrets extract A \'{"A":false}\')', 'Could not find secret A'],
    ['JSON that lost its quotes to shellsplit', 'A=$(kamal secrets extract DB {"DB":"pw"})', "expected object key, got 'DB:pw}' at line 1 column 2"],
    ['no JSON', 'A=$(kamal secrets extract DB)', 'ERROR: "kamal secrets extract" was called with arguments ["DB"]\nUsage: "kamal secrets extract"'],
  ])('refuses %s', (_n, text, message) => {
    expect(configError(() => parseDotenv(text, { env: {} })).message).toBe(`.kamal/secrets: line 1: ${message}`);
  });

  it('a false value gives way to a key ending in /NAME, as in Kamal', () => {
    expect(parseDotenv('A=$(kamal secrets extract A \'{"A":false,"x/A":"y"}\')', { env: {} })).toEqual({ A: 'y' });
  });
});

describe("plainWords: which `kamal secrets ...` lines are Kamal's inline command, which go through sh", () => {
  it.each<[string, string[] | undefined]>([
    ['kamal secrets fetch -a op --from vault A B', ['kamal', 'secrets', 'fetch', '-a', 'op', '--from', 'vault', 'A', 'B']],
    ['kamal secrets extract A \\{\\"a\\":\\"x\\|y\\;z\\"\\}', ['kamal', 'secrets', 'extract', 'A', '{"a":"x|y;z"}']],
    ['kamal secrets fetch -a op \'a|b\' "c;d" "e(f)"', ['kamal', 'secrets', 'fetch', '-a', 'op', 'a|b', 'c;d', 'e(f)']],
    ['kamal secrets fetch -a op A | jq -r .A', undefined],
    ['kamal secrets fetch -a op A && echo', undefined],
    ['kamal secrets fetch -a op A; echo', undefined],
    ['kamal secrets fetch -a op A > /tmp/x', undefined],
    ['kamal secrets extract A $(cat f)', undefined],
    ['kamal secrets extract A `cat f`', undefined],
    ['kamal secrets fetch "unterminated', undefined],
  ])('%s', (command, words) => {
    expect(plainWords(command)).toEqual(words);
  });
});

describe('sh with our kamal first on PATH', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kamal-secrets-sh-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const script = (dir: string, body: string): string => {
    const file = join(dir, 'kamal');
    writeFileSync(file, `#!/bin/sh\n${body}`);
    chmodSync(file, 0o755);
    return file;
  };
  // Our CLI, as far as these lines need it: `secrets fetch` prints the JSON (with --inline
  // shell-escaped, as Kamal's inline fetch returns it), `-a broken` fails, `-a op` without
  // --account answers as Kamal does; anything else says who it is.
  const ours = join(tmp, 'ours');
  const other = join(tmp, 'other');
  for (const d of [ours, other]) mkdirSync(d);
  script(
    ours,
    `case "$1 $2 $3 $4" in
  "secrets fetch -a broken"*) echo "1Password CLI is not installed" >&2; exit 1 ;;
  "secrets fetch -a noacct"*) echo "No value provided for required options '--account'"; exit 0 ;;
  "secrets fetch"*)
    for a in "$@"; do [ "$a" = --inline ] && { printf '%s\\n' '\\{\\"vault/DB\\":\\"p\\ w\\$x\\",\\"vault/API\\":\\"a\\|b\\"\\}'; exit 0; }; done
    printf '%s\\n' '{"vault/DB":"p w$x","vault/API":"a|b"}' ;;
  *) echo "ours: $*" ;;
esac
`,
  );
  script(other, 'echo "another kamal"\n');
  const kamal: KamalCommand = { dir: () => ours };
  const env = { PATH: `${other}:${process.env.PATH}`, E1: 'env1', KAMAL_DESTINATION: 'staging' };

  const parse = (text: string, extra: Partial<Parameters<typeof parseDotenv>[1]> = {}) => parseDotenv(text, { env, kamal, ...extra });

  it.each<[string, string, Record<string, string>]>([
    ['kamal is ours, before another one on PATH', 'WHO=$(kamal version)\nWHERE=$(command -v kamal)', { WHO: 'ours: version', WHERE: join(ours, 'kamal') }],
    [
      'inline fetch keeps the shell-escaped JSON; extract takes a value from it',
      'SECRETS=$(kamal secrets fetch -a test --account acme --from vault DB API)\nDB=$(kamal secrets extract DB $SECRETS)\nAPI=$(kamal secrets extract API ${SECRETS})',
      { SECRETS: '\\{\\"vault/DB\\":\\"BD/tluav\\",\\"vault/API\\":\\"IPA/tluav\\"\\}', DB: 'BD/tluav', API: 'IPA/tluav' },
    ],
    [
      'a pipe after kamal secrets fetch runs through sh',
      `DB=$(kamal secrets fetch -a op --account acme DB | sed -e 's/.*"vault.DB":"//' -e 's/".*//')`,
      { DB: 'p w$x' },
    ],
    ['nested $(...)', 'A=$(echo $(echo inner))', { A: 'inner' }],
    ['parentheses inside quotes', `A=$(printf '%s' "(a) (b)")`, { A: '(a) (b)' }],
    ['quoting inside the command', `A=$(printf '%s|' "a b" 'c  d')`, { A: 'a b|c  d|' }],
    ['an escaped \\$( is not run', 'A=\\$(echo no)\nB="\\$(echo no)"', { A: '$(echo no)', B: '$(echo no)' }],
    ['single quotes: neither run nor expanded', "A='$(echo no) $E1'", { A: '$(echo no) $E1' }],
    ['earlier keys of the same file in the command', 'A=one\nB=$(echo $A-${E1})', { A: 'one', B: 'one-env1' }],
    [
      "the shell sees the run's environment, KAMAL_DESTINATION included",
      'D=$(printenv KAMAL_DESTINATION)\nV=[$KAMAL_DESTINATION]',
      { D: 'staging', V: '[staging]' },
    ],
    ["$VAR in a command is dotenv's, quotes or not", "A=$(echo 'pa$E1')", { A: 'paenv1' }],
    ["$ in a command's output stays as it is (dotenv would expand it)", "A=$(printf 'pa%sE1' '$')", { A: 'pa$E1' }],
  ])('%s', (_n, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it("an earlier file's keys are not seen by $VAR or the shell (Dotenv.parse per file)", () => {
    const cwd = withTestSecrets({ 'secrets-common': 'C=common', secrets: 'A=[$C]\nB=[$(printenv C || true)]' });
    const s = store(cwd, { env, kamal });
    expect([fetch(s, 'A'), fetch(s, 'B'), fetch(s, 'C')]).toEqual(['[]', '[]', 'common']);
  });

  it.each<[string, string, string]>([
    ['a failing command', 'OK=1\nF=$(echo bad >&2; exit 4)', '.kamal/secrets: line 2: the command substitution failed: exit code 4 (bad)'],
    [
      'a command that is not installed',
      'F=$(no-such-tool-here get x)',
      '.kamal/secrets: line 1: the command substitution failed: exit code 127 (sh: 1: no-such-tool-here: not found)',
    ],
    ["a failing inline fetch, with Kamal's message", 'S=$(kamal secrets fetch -a broken x)', '.kamal/secrets: line 1: Unknown secrets adapter: broken'],
  ])('stops at %s', (_n, text, message) => {
    expect(configError(() => parse(text)).message).toBe(message);
  });

  it('the inline command runs in-process: no shell, the vendor CLI gets the words', () => {
    const run = vi.fn<CommandRunner>(() => 'ran\n');
    const vendorRun = vi.fn<VendorRunner>((call) => ({
      stdout: call.argv[1] === '--version' ? 'aws-cli/2.17.0\n' : '{"SecretValues":[{"Name":"my id","SecretString":"v"}],"Errors":[]}\n',
      success: true,
    }));
    expect(parseDotenv('A=$(kamal secrets fetch -a aws_secrets_manager "my id")', { env: {}, run, vendorRun })).toEqual({ A: '\\{\\"my\\ id\\":\\"v\\"\\}' });
    expect(run).not.toHaveBeenCalled();
    expect(vendorRun.mock.calls.map(([c]) => c.argv)).toEqual([
      ['aws', '--version'],
      ['aws', 'secretsmanager', 'batch-get-secret-value', '--secret-id-list', 'my id', '--output', 'json'],
    ]);
  });
});
