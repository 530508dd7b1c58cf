// Property-based checks: whatever the text or the value, the loader either
// returns or throws a ConfigError with a plain message (no stack trace, no
// internal error), and validateConfig itself never throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderErb } from '../../../src/config/erb.js';
import { parseConfigText } from '../../../src/config/load.js';
import { parseDotenv, type CommandRunner } from '../../../src/config/secrets.js';
import { parseConfig, validateConfig } from '../../../src/config/validate.js';
import { ConfigError } from '../../../src/errors.js';
import { STACK_TRACE, validConfig } from './helpers.js';

// KAMAL_FUZZ_RUNS=50000 npx vitest run --project unit test/unit/config/fuzz.test.ts for a longer search
const RUNS = Number(process.env.KAMAL_FUZZ_RUNS ?? 1500);
const TIMEOUT = Math.max(30_000, RUNS * 5);
const ENV = { X: 'a: b', LIST: '[1, 2]', EMPTY: '', ML: 'l1\nl2' };

/** Pieces of YAML, ERB and Kamal keys that, glued at random, make text close to a deploy.yml. */
const fragment = fc.constantFrom(
  'service: app\n',
  'image: app\n',
  'servers:\n',
  '  - 1.1.1.1\n',
  '  web:\n',
  '    hosts: [a, b]\n',
  '    proxy: {ssl: true}\n',
  'registry: {username: u, password: [P]}\n',
  'builder: {arch: [amd64, arm64], pack: {}}\n',
  'accessories:\n  db: {host: h, role: x}\n',
  'env:\n  tags:\n    t: {tags: {}}\n',
  'proxy:\n  run: {publish: false, http_port: 1}\n',
  '<%= ENV["X"] %>',
  '<%= ENV.fetch("NOPE") %>',
  '<%= ENV.fetch("X", "d") %>',
  '<%= `id` %>',
  '<%',
  '%>',
  '-%>',
  '<%- x -%>',
  '<%#',
  '&a ',
  '*a ',
  '<<: *a\n',
  '? ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ':',
  ' ',
  '  ',
  '\n',
  '\t',
  '"',
  "'",
  '!ruby/sym ',
  '!ruby/object:Foo ',
  '!!binary ',
  '!!float ',
  '#',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '0x1F',
  '1e3',
  '~',
  '.inf',
  '.nan',
  '2024-02-30',
  '12:30:00',
  '9007199254740993',
  '__proto__: 1\n',
  'constructor: {}\n',
  'toString: 2\n',
  'x-a: &a {p: 1}\n',
  '\uFEFF',
  '\u0000',
);

const yamlish = fc.oneof(
  fc.array(fragment, { maxLength: 40 }).map((a) => a.join('')),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v, null, 2)),
);

/** Runs `fn`; a thrown value must be a ConfigError with a clean message. */
function onlyConfigErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`threw ${String(e)} (not a ConfigError)`);
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.message).not.toMatch(STACK_TRACE);
    for (const issue of e.issues) {
      expect(typeof issue.path).toBe('string');
      expect(typeof issue.message).toBe('string');
    }
  }
}

function checkIssues(value: unknown): void {
  const issues = validateConfig(value, { localArch: 'amd64', destination: null, fileExists: () => false });
  for (const issue of issues) {
    expect(typeof issue.path).toBe('string');
    expect(typeof issue.message).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
    expect(issue.message).not.toMatch(STACK_TRACE);
    // keys are joined with "/" as Kamal does (a key may itself hold a "/"), never an object
    expect(issue.path).not.toContain('[object Object]');
  }
}

/** Values like YAML produces, with the keys Kamal cares about. */
const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom(
    'service',
    'image',
    'servers',
    'web',
    'workers',
    'hosts',
    'proxy',
    'ssl',
    'host',
    'env',
    'clear',
    'secret',
    'tags',
    'accessories',
    'builder',
    'arch',
    'remote',
    'local',
    'cache',
    'type',
    'pack',
    'registry',
    'server',
    'username',
    'password',
    'options',
    'restart',
    'labels',
    'run',
    'publish',
    'output',
    'otel',
    'file',
    'hooks_output',
    'aliases',
    'primary_role',
    'boot',
    'ssh',
    'config',
    'minimum_version',
    'retain_containers',
    '__proto__',
    'constructor',
    'x-a',
  ),
);
const yamlValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.string({ maxLength: 10 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
}));

describe('fuzz: parseConfigText + validateConfig', () => {
  it(
    'random YAML-ish text: only ConfigErrors, never a stack trace',
    () => {
      fc.assert(
        fc.property(yamlish, (text) => {
          onlyConfigErrors(() => {
            const raw = parseConfigText(text, { env: ENV });
            checkIssues(raw);
            parseConfig(raw, { localArch: 'amd64' });
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'random JSON values as YAML documents',
    () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          onlyConfigErrors(() => checkIssues(parseConfigText(JSON.stringify(value), { env: {} })));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'validateConfig never throws on any value; parseConfig throws only ConfigError',
    () => {
      fc.assert(
        fc.property(fc.oneof(yamlValue.value, fc.anything({ maxDepth: 4, withNullPrototype: true, key })), (value) => {
          checkIssues(value);
          onlyConfigErrors(() => parseConfig(value));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'a valid config with one key replaced by a random value',
    () => {
      const topKeys = fc.constantFrom(
        'service',
        'image',
        'servers',
        'registry',
        'builder',
        'env',
        'proxy',
        'accessories',
        'boot',
        'ssh',
        'aliases',
        'hooks_output',
        'labels',
        'volumes',
      );
      fc.assert(
        fc.property(topKeys, yamlValue.value, (k, value) => {
          const raw = { ...validConfig(), [k]: value };
          checkIssues(raw);
          onlyConfigErrors(() => parseConfig(raw, { localArch: 'amd64' }));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: ERB and secrets', () => {
  it(
    'renderErb: a string or a ConfigError naming the file',
    () => {
      fc.assert(
        fc.property(yamlish, fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 10 })), (text, env) => {
          try {
            expect(typeof renderErb(text, env, 'config/f.yml')).toBe('string');
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
            expect((e as Error).message.startsWith('config/f.yml:')).toBe(true);
            expect((e as Error).message).not.toMatch(STACK_TRACE);
          }
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'ENV["X"] renders any value as it is',
    () => {
      fc.assert(
        fc.property(fc.string(), (v) => {
          expect(renderErb('<%= ENV["X"] %>', { X: v })).toBe(v);
          expect(renderErb('<%= ENV.fetch("X", "d") %>', { X: v })).toBe(v);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'parseDotenv: random text runs only what it shows and throws only ConfigErrors',
    () => {
      const dotenvish = fc.oneof(
        fc
          .array(
            fc.constantFrom(
              'A=',
              'B',
              'export ',
              '=',
              '"',
              "'",
              '\\',
              '$',
              '$(',
              ')',
              '(',
              '{',
              '}',
              'x',
              ' ',
              '\n',
              '#',
              'kamal secrets extract A ',
              '$A',
              '${B}',
            ),
            { maxLength: 30 },
          )
          .map((a) => a.join('')),
        fc.string({ maxLength: 100 }),
      );
      fc.assert(
        fc.property(dotenvish, (text) => {
          const commands: string[] = [];
          const run: CommandRunner = (cmd) => {
            commands.push(cmd);
            return 'out';
          };
          onlyConfigErrors(() => parseDotenv(text, { env: { A: '1' }, run }));
          if (!text.includes('$(')) expect(commands).toEqual([]);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    "parseDotenv: a variable's value comes out as it is and is never run",
    () => {
      const shelly = fc
        .tuple(fc.string({ maxLength: 8 }), fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 }))
        .map(([a, b, c]) => `${a}$(${b})${c}`);
      fc.assert(
        fc.property(fc.oneof(fc.string(), shelly), (v) => {
          const run: CommandRunner = () => {
            throw new Error('must not run');
          };
          expect(parseDotenv('A=$X\nB="${X}"', { env: { X: v }, run })).toEqual({ A: v, B: v });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
