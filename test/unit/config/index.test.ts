// loadConfig end to end in a temporary project: files, destination, ERB,
// YAML, validation (every issue, Kamal key paths) and the secrets files.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { Configuration } from '../../../src/model/configuration.js';
import type { CommandRunner } from '../../../src/config/secrets.js';
import { ConfigError } from '../../../src/errors.js';
import { configErrorAsync, project, removeProjects, VALID_YAML } from './helpers.js';

afterAll(removeProjects);

// Kamal's test/fixtures/deploy_with_extensions.yml
const WITH_EXTENSIONS = `
x-web: &web
  proxy: {}

service: app
image: dhh/app
servers:
  web_chicago:
    <<: *web
    hosts:
      - 1.1.1.1
      - 1.1.1.2
  web_tokyo:
    <<: *web
    hosts:
      - 1.1.1.3
      - 1.1.1.4
env:
  REDIS_URL: redis://x/y
registry:
  server: registry.digitalocean.com
  username: user
  password: pw
builder:
  arch: amd64
primary_role: web_tokyo
`;

describe('loadConfig', () => {
  it('loads, validates and drops x- keys (configuration_test.rb "extensions")', async () => {
    const cwd = project({ 'config/deploy.yml': WITH_EXTENSIONS });
    const config = await loadConfig({ cwd, env: {}, localArch: 'amd64' });
    expect(config).toBeInstanceOf(Configuration);
    expect(config.roleNames).toEqual(['web_chicago', 'web_tokyo']);
    const raw = config.rawConfig;
    expect(Object.keys(raw)).toEqual(['service', 'image', 'servers', 'env', 'registry', 'builder', 'primary_role']);
    expect(raw.servers).toEqual({
      web_chicago: { proxy: {}, hosts: ['1.1.1.1', '1.1.1.2'] },
      web_tokyo: { proxy: {}, hosts: ['1.1.1.3', '1.1.1.4'] },
    });
  });

  it("merges the destination file and reads that destination's secrets", async () => {
    const cwd = project({
      'config/deploy.yml': VALID_YAML + 'env:\n  secret: [DB_PASSWORD]\n',
      'config/deploy.staging.yml': 'servers:\n  - 2.2.2.2\nx-note: staging\n',
      '.kamal/secrets-common': 'SHARED=common\nDB_PASSWORD=common',
      '.kamal/secrets.staging': 'DB_PASSWORD=$(fetch staging)',
      '.kamal/secrets': 'DB_PASSWORD=production',
    });
    const run = vi.fn<CommandRunner>(() => 'from-run\n');
    const { rawConfig: raw, secrets } = await loadConfig({ cwd, env: {}, destination: 'staging', run, localArch: 'amd64' });
    expect(raw.servers).toEqual(['2.2.2.2']);
    expect(raw['x-note']).toBeUndefined();
    expect(secrets.files).toEqual(['.kamal/secrets-common', '.kamal/secrets.staging']);
    expect(secrets.get('DB_PASSWORD')?.reveal()).toBe('from-run');
    expect(secrets.get('SHARED')?.reveal()).toBe('common');
    expect(run.mock.calls.map((c) => c[0])).toEqual(['fetch staging']);
  });

  it('renders ERB from the given env, with KAMAL_DESTINATION', async () => {
    const cwd = project({
      'config/deploy.yml':
        VALID_YAML.replace('service: app', 'service: <%= ENV.fetch("SERVICE", "fallback") %>') + 'labels:\n  dest: <%= ENV["KAMAL_DESTINATION"] %>\n',
      'config/deploy.eu.yml': 'image: app-<%= ENV["KAMAL_DESTINATION"] %>\n',
    });
    const { rawConfig: raw } = await loadConfig({ cwd, env: { SERVICE: 'from-env' }, destination: 'eu', localArch: 'amd64' });
    expect(raw.service).toBe('from-env');
    expect(raw.image).toBe('app-eu');
    expect(raw.labels).toEqual({ dest: 'eu' });
  });

  it('uses secrets_path from the configuration', async () => {
    const cwd = project({ 'config/deploy.yml': VALID_YAML + 'secrets_path: custom/secrets\n', 'custom/secrets': 'A=custom' });
    const { secrets } = await loadConfig({ cwd, env: {}, localArch: 'amd64' });
    expect(secrets.get('A')?.reveal()).toBe('custom');
    expect(secrets.missing('B')).toBe("Secret 'B' not found in custom/secrets");
  });

  it('extra secrets win over the files, and their lines are not run', async () => {
    const cwd = project({ 'config/deploy.yml': VALID_YAML, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$(op read x)\nOTHER=1' });
    const run = vi.fn<CommandRunner>(() => 'ran');
    const { secrets } = await loadConfig({ cwd, env: {}, extraSecrets: { KAMAL_REGISTRY_PASSWORD: 'given' }, run, localArch: 'amd64' });
    expect(secrets.get('KAMAL_REGISTRY_PASSWORD')?.reveal()).toBe('given');
    expect(secrets.get('OTHER')?.reveal()).toBe('1');
    expect(run).not.toHaveBeenCalled();
  });

  it('resolves secrets lazily: a bad secrets file does not stop loading', async () => {
    const cwd = project({ 'config/deploy.yml': VALID_YAML, '.kamal/secrets': 'A=$(kamal secrets fetch --adapter bitwarden A)' });
    const { secrets } = await loadConfig({ cwd, env: {}, localArch: 'amd64' });
    expect(() => secrets.get('A')).toThrow(ConfigError);
  });

  it('an invalid configuration is one ConfigError naming every key path', async () => {
    const cwd = project({
      'config/deploy.yml': [
        'service: app',
        'image: app',
        'registry:',
        '  username: user',
        '  password: secret',
        'builder:',
        '  arch: amd64',
        'servers:',
        '  web:',
        '    hosts: 1.1.1.1',
        '  workers:',
        '    hosts: [1.1.1.2]',
        '    labels:',
        '      role: x',
        'x-ignored: {anything: [goes]}',
        'proxy:',
        '  app_port: "3000"',
        '',
      ].join('\n'),
    });
    const error = await configErrorAsync(() => loadConfig({ cwd, env: {}, localArch: 'amd64' }));
    expect(error.message).toBe(
      [
        'servers/web/hosts: should be an array',
        'servers/workers/labels/role: invalid label. destination, role, and service are reserved labels',
        'proxy/app_port: should be an integer',
      ].join('\n'),
    );
    expect(error.issues).toEqual([
      { path: 'servers/web/hosts', message: 'should be an array' },
      { path: 'servers/workers/labels/role', message: 'invalid label. destination, role, and service are reserved labels' },
      { path: 'proxy/app_port', message: 'should be an integer' },
    ]);
  });

  it('require_destination without a destination', async () => {
    const cwd = project({ 'config/deploy.yml': VALID_YAML + 'require_destination: true\n' });
    expect((await configErrorAsync(() => loadConfig({ cwd, env: {}, localArch: 'amd64' }))).message).toBe('You must specify a destination');
    await expect(
      loadConfig({
        cwd: project({ 'config/deploy.yml': VALID_YAML + 'require_destination: true\n', 'config/deploy.x.yml': '{}\n' }),
        env: {},
        destination: 'x',
        localArch: 'amd64',
      }),
    ).resolves.toBeDefined();
  });

  it('finds old traefik hooks in the project (configuration_test.rb "traefik hooks raise error")', async () => {
    const cwd = project({ 'config/deploy.yml': VALID_YAML, '.kamal/hooks/post-traefik-reboot': '', '.kamal/hooks/pre-traefik-reboot': '' });
    expect((await configErrorAsync(() => loadConfig({ cwd, env: {}, localArch: 'amd64' }))).message).toBe(
      'Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot',
    );
  });

  it.each<[string, Record<string, string>, string | undefined, string]>([
    ['no config file', {}, undefined, 'Configuration file not found in config/deploy.yml'],
    ['a missing destination file', { 'config/deploy.yml': VALID_YAML }, 'nowhere', 'Configuration file not found in config/deploy.nowhere.yml'],
    [
      'a missing ERB variable',
      { 'config/deploy.yml': VALID_YAML + 'env:\n  A: <%= ENV.fetch("NOT_SET") %>\n' },
      undefined,
      'config/deploy.yml:11: key not found: "NOT_SET"',
    ],
    [
      'a YAML syntax error',
      { 'config/deploy.yml': VALID_YAML + 'env: [\n' },
      undefined,
      'config/deploy.yml: invalid YAML at line 11, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a list as the document',
      { 'config/deploy.yml': '- a\n' },
      undefined,
      'config/deploy.yml: the configuration must be a YAML mapping of keys to values, not a list',
    ],
  ])('refuses %s', async (_n, files, destination, message) => {
    const cwd = project(files);
    expect((await configErrorAsync(() => loadConfig({ cwd, env: {}, destination, localArch: 'amd64' }))).message).toBe(message);
  });
});
