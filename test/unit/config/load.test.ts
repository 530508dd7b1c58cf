// Reading config/deploy.yml and config/deploy.<destination>.yml as
// Kamal::Configuration.load_raw_config does: ERB, then YAML (Psych), then
// ActiveSupport's deep_merge of the destination file over the base.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { destinationConfigFile, kamalEnv, loadConfigFile, loadRawConfig, MAX_CONFIG_FILE_BYTES, parseConfigText } from '../../../src/config/load.js';
import { validateConfig } from '../../../src/config/validate.js';
import { YamlTimestamp } from '../../../src/config/yaml.js';
import { configError, project, removeProjects } from './helpers.js';

afterAll(removeProjects);

const MAPPING = 'config/deploy.yml: the configuration must be a YAML mapping of keys to values, not';

describe('parseConfigText: YAML', () => {
  it.each<[string, string, unknown]>([
    ['a mapping', 'service: app\nservers: [1.1.1.1]', { service: 'app', servers: ['1.1.1.1'] }],
    ['the last duplicate key wins (Psych)', 'a: 1\na: 2', { a: 2 }],
    ['only the first document', '---\na: 1\n---\nb: 2', { a: 1 }],
    ['an anchor merged with <<', 'x-web: &web {proxy: {}}\nweb:\n  <<: *web\n  hosts: [a]', { 'x-web': { proxy: {} }, web: { proxy: {}, hosts: ['a'] } }],
    ['a list of merges (right to left)', 'a: &a {k: 1, x: 1}\nb: &b {k: 2}\nc:\n  <<: [*b, *a]', { a: { k: 1, x: 1 }, b: { k: 2 }, c: { k: 2, x: 1 } }],
    ['a quoted << is an ordinary key', '"<<": 1', { '<<': 1 }],
    ['hex integers', 'port: 0x1F', { port: 31 }],
    ['underscored integers', 'n: 1_000', { n: 1000 }],
    ['sexagesimal integers', 'v: 12:30', { v: 45000 }],
    ["floats keep Ruby's to_s", 'v: 1.0', { v: '1.0' }],
    ['.inf', 'v: .inf', { v: 'Infinity' }],
    ['integers beyond 2^53 keep every digit', 'v: 9007199254740993', { v: '9007199254740993' }],
    ['symbols become strings', 'v: :verbose', { v: 'verbose' }],
    ['yes/no are booleans (YAML 1.1)', 'a: yes\nb: off', { a: true, b: false }],
    ['a quoted number is a string', "v: '1'", { v: '1' }],
    ['~ and empty values are null', 'a: ~\nb:', { a: null, b: null }],
    ['numeric keys become strings', '1: a\ntrue: b', { '1': 'a', true: 'b' }],
    ['__proto__ is an ordinary key', '__proto__: 1', JSON.parse('{"__proto__": 1}')],
  ])('%s', (_n, text, expected) => {
    const parsed = parseConfigText(text, { env: {} });
    expect(parsed).toEqual(expected);
    expect(Object.keys(parsed)).toEqual(Object.keys(expected as object));
  });

  it('keeps dates as YamlTimestamp so string keys refuse them, as Kamal does', () => {
    const parsed = parseConfigText('service: 2024-01-01\n', { env: {} });
    expect(parsed.service).toBeInstanceOf(YamlTimestamp);
    expect(validateConfig({ ...parsed })[0]).toEqual({ path: 'service', message: 'should be a string' });
  });

  it.each<[string, string, string]>([
    ['an empty file', '', `${MAPPING} an empty document`],
    ['only a comment', '# nothing here\n', `${MAPPING} an empty document`],
    ['a list', '- a\n- b', `${MAPPING} a list`],
    ['a string', 'just a string', `${MAPPING} a string`],
    ['a number', '42', `${MAPPING} a number`],
    ['a date', '2024-01-01', `${MAPPING} a date`],
    ['null', '~', `${MAPPING} null`],
    [
      'an unclosed flow sequence',
      'a: [1, 2',
      'config/deploy.yml: invalid YAML at line 1, column 9: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['a tab as indentation', 'a:\n\tb: 1', 'config/deploy.yml: invalid YAML at line 2, column 1: Tabs are not allowed as indentation'],
    ['an unknown alias', 'a: *nope', 'config/deploy.yml:1: unknown YAML alias *nope'],
    ['a recursive alias', 'a: &x [*x]', 'config/deploy.yml:1: recursive YAML alias'],
    ['a Ruby object tag', 'a: 1\nb: !ruby/object:Foo {}', 'config/deploy.yml:2: unsupported YAML tag !ruby/object:Foo'],
    ['a sequence as a key', '? [a]\n: 1', 'config/deploy.yml:1: unsupported YAML mapping key (a sequence)'],
  ])('refuses %s', (_n, text, message) => {
    expect(configError(() => parseConfigText(text, { env: {} })).message).toBe(message);
  });

  it('reports YAML errors at the template line, after ERB added lines', () => {
    // the rendered text is "a: 1\nb: l1\nl2\nl3\nc: [": the bad line is template line 2
    expect(configError(() => parseConfigText('a: 1\nb: <%= ENV["ML"] %>\nc: [', { env: { ML: 'l1\nl2\nl3' } })).message).toBe(
      'config/deploy.yml: invalid YAML at line 2, column 1: Implicit keys need to be on a single line',
    );
  });

  it('refuses a document that expands to too many nodes (billion laughs)', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`);
    }
    expect(configError(() => parseConfigText(lines.join('\n'), { env: {} })).message).toMatch(
      /^config\/deploy\.yml:\d+: the document expands to more than 100000 nodes \(too many aliases\)$/,
    );
  });
});

describe('loadConfigFile', () => {
  it.each<[string, Record<string, string | Buffer>, string]>([
    ["a missing file (Kamal's RuntimeError text)", {}, 'Configuration file not found in config/deploy.yml'],
    ['a binary file', { 'config/deploy.yml': Buffer.from([0x61, 0x3a, 0x00, 0x31]) }, 'config/deploy.yml: is a binary file, not YAML text'],
    ['invalid UTF-8', { 'config/deploy.yml': Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe]) }, 'config/deploy.yml: is not valid UTF-8 text'],
    [
      'a file over the size limit',
      { 'config/deploy.yml': 'a: ' + 'x'.repeat(MAX_CONFIG_FILE_BYTES) },
      `config/deploy.yml: file is too large (${MAX_CONFIG_FILE_BYTES + 3} bytes; the limit is ${MAX_CONFIG_FILE_BYTES})`,
    ],
  ])('refuses %s', (_n, files, message) => {
    const cwd = project(files);
    expect(configError(() => loadConfigFile('config/deploy.yml', { cwd, env: {} })).message).toBe(message);
  });

  it('refuses a directory', () => {
    const cwd = project();
    mkdirSync(join(cwd, 'config', 'deploy.yml'), { recursive: true });
    expect(configError(() => loadConfigFile('config/deploy.yml', { cwd, env: {} })).message).toBe(
      'config/deploy.yml: is a directory, not a configuration file',
    );
  });

  it('drops a UTF-8 byte order mark', () => {
    const cwd = project({ 'config/deploy.yml': '\uFEFFservice: app\n' });
    expect(loadConfigFile('config/deploy.yml', { cwd, env: {} })).toEqual({ service: 'app' });
  });

  it('resolves relative paths against cwd and names the file as given', () => {
    const cwd = project({ 'other/place.yml': 'a: <%= ENV.fetch("NOPE") %>\n' });
    expect(configError(() => loadConfigFile('other/place.yml', { cwd, env: {} })).message).toBe('other/place.yml:1: key not found: "NOPE"');
  });
});

// Kamal's test/fixtures/deploy_for_dest*.yml
const DEST_FILES = {
  'config/deploy.yml': [
    'service: app',
    'image: dhh/app',
    'registry:',
    '  server: registry.digitalocean.com',
    '  username: <%= "my-user" %>',
    '  password: <%= "my-password" %>',
    'builder:',
    '  arch: amd64',
    '',
  ].join('\n'),
  'config/deploy.world.yml': 'servers:\n  - 1.1.1.1\n  - 1.1.1.2\nenv:\n  REDIS_URL: redis://x/y\n',
  'config/deploy.mars.yml': 'servers:\n  - 1.1.1.3\n  - 1.1.1.4\nenv:\n  REDIS_URL: redis://a/b\n',
};

describe('loadRawConfig: destinations', () => {
  it('destination yml config merge (configuration_test.rb)', () => {
    const cwd = project(DEST_FILES);
    expect((loadRawConfig({ cwd, env: {}, destination: 'world' }).servers as string[])[0]).toBe('1.1.1.1');
    expect((loadRawConfig({ cwd, env: {}, destination: 'mars' }).servers as string[])[0]).toBe('1.1.1.3');
  });

  it('without a destination only the base file is read', () => {
    const cwd = project(DEST_FILES);
    expect(loadRawConfig({ cwd, env: {} })).toEqual({
      service: 'app',
      image: 'dhh/app',
      registry: { server: 'registry.digitalocean.com', username: 'my-user', password: 'my-password' },
      builder: { arch: 'amd64' },
    });
  });

  it('destination yml config file missing (configuration_test.rb)', () => {
    const cwd = project(DEST_FILES);
    expect(configError(() => loadRawConfig({ cwd, env: {}, destination: 'missing' })).message).toBe(
      'Configuration file not found in config/deploy.missing.yml',
    );
  });

  it('deep-merges hashes and replaces everything else (ActiveSupport deep_merge)', () => {
    const cwd = project({
      'config/deploy.yml': [
        'service: app',
        'servers:',
        '  web: [1.1.1.1, 1.1.1.2]',
        '  workers: {hosts: [1.1.1.3], cmd: bin/jobs}',
        'env:',
        '  clear: {A: a, B: b}',
        '  secret: [S1, S2]',
        'proxy: {host: base.example.com, ssl: true}',
        'volumes: [/a:/a]',
        'labels: {keep: me}',
        '',
      ].join('\n'),
      'config/deploy.staging.yml': [
        'servers:',
        '  web: [2.2.2.2]',
        '  workers: {cmd: bin/other}',
        'env:',
        '  clear: {B: staging, C: c}',
        '  secret: [S3]',
        'proxy: {host: staging.example.com}',
        'volumes: []',
        'labels: ~',
        'image: added',
        'x-staging: {ignored: true}',
        '',
      ].join('\n'),
    });
    const raw = loadRawConfig({ cwd, env: {}, destination: 'staging' });
    expect(raw).toEqual({
      service: 'app',
      servers: { web: ['2.2.2.2'], workers: { hosts: ['1.1.1.3'], cmd: 'bin/other' } },
      env: { clear: { A: 'a', B: 'staging', C: 'c' }, secret: ['S3'] },
      proxy: { host: 'staging.example.com', ssl: true },
      volumes: [],
      labels: null,
      image: 'added',
      'x-staging': { ignored: true },
    });
    // base keys keep their place, new keys come after them
    expect(Object.keys(raw)).toEqual(['service', 'servers', 'env', 'proxy', 'volumes', 'labels', 'image', 'x-staging']);
  });

  it('a destination file can replace a hash with a scalar', () => {
    const cwd = project({ 'config/deploy.yml': 'proxy: {host: a}\n', 'config/deploy.x.yml': 'proxy: false\n' });
    expect(loadRawConfig({ cwd, env: {}, destination: 'x' })).toEqual({ proxy: false });
  });

  it('renders both files with KAMAL_DESTINATION set to the destination', () => {
    const cwd = project({
      'config/deploy.yml': 'service: app-<%= ENV["KAMAL_DESTINATION"] %>\n',
      'config/deploy.world.yml': 'image: img-<%= ENV.fetch("KAMAL_DESTINATION") %>\n',
    });
    expect(loadRawConfig({ cwd, env: { KAMAL_DESTINATION: 'stale' }, destination: 'world' })).toEqual({ service: 'app-world', image: 'img-world' });
  });

  it('removes a KAMAL_DESTINATION from the environment when there is no destination', () => {
    const cwd = project({ 'config/deploy.yml': 'service: "<%= ENV["KAMAL_DESTINATION"] %>"\n' });
    expect(loadRawConfig({ cwd, env: { KAMAL_DESTINATION: 'stale' } })).toEqual({ service: '' });
    expect(kamalEnv({ A: '1', KAMAL_DESTINATION: 'x' }, undefined)).toEqual({ A: '1' });
    expect(kamalEnv({ A: '1' }, 'prod')).toEqual({ A: '1', KAMAL_DESTINATION: 'prod' });
  });

  it('an error in the destination file names that file and its line', () => {
    const cwd = project({ 'config/deploy.yml': 'service: app\n', 'config/deploy.prod.yml': 'a: 1\nb: <%= ENV.fetch("PROD_ONLY") %>\n' });
    expect(configError(() => loadRawConfig({ cwd, env: {}, destination: 'prod' })).message).toBe('config/deploy.prod.yml:2: key not found: "PROD_ONLY"');
  });

  it('uses a custom config file and its own destination file', () => {
    const cwd = project({ 'deploy/app.yml': 'service: app\n', 'deploy/app.eu.yml': 'image: eu\n' });
    expect(loadRawConfig({ cwd, env: {}, configFile: 'deploy/app.yml', destination: 'eu' })).toEqual({ service: 'app', image: 'eu' });
  });

  it.each<[string, string, string]>([
    ['config/deploy.yml', 'staging', 'config/deploy.staging.yml'],
    ['config/deploy.yaml', 'staging', 'config/deploy.staging.yml'],
    ['deploy', 'x', 'deploy.x.yml'],
    ['a.b/deploy.yml', 'x', 'a.b/deploy.x.yml'],
  ])('destinationConfigFile(%s, %s) is %s (Pathname#sub_ext)', (file, dest, expected) => {
    expect(destinationConfigFile(file, dest)).toBe(expected);
  });

  it('require_destination (configuration_test.rb): refused without a destination, fine with one', () => {
    const cwd = project({
      'config/deploy.yml': DEST_FILES['config/deploy.yml'] + 'require_destination: true\naliases:\n  world_deploy: deploy -d world\n',
      'config/deploy.world.yml': DEST_FILES['config/deploy.world.yml'],
    });
    const without = loadRawConfig({ cwd, env: {} });
    expect(validateConfig(without, { destination: null }).map((i) => i.message)).toEqual([
      'You must specify a destination',
      'No servers or accessories specified',
    ]);
    const withDest = loadRawConfig({ cwd, env: {}, destination: 'world' });
    expect(validateConfig(withDest, { destination: 'world' })).toEqual([]);
  });
});
