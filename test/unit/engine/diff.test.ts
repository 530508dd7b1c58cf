/** The pure part of `diff`: tables of exact inputs (host facts, configuration) and the changes reported. */
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore, SecretRegistry, secretForms } from '../../../src/secret.js';
import {
  computeDiff,
  desiredAppSpec,
  diffEnv,
  diffLabels,
  diffOptions,
  diffProxy,
  diffVolumes,
  envHashes,
  redactReport,
  type ContainerInspect,
  type DiffReport,
  type HostFacts,
  type KeyChange,
  type ProxyServiceState,
  type RunningContainer,
} from '../../../src/engine/diff.js';
import { diffText } from '../../../src/engine/diff-format.js';
import { parseHashLines, parseServiceContainers } from '../../../src/engine/diff-gather.js';
import { EnvFile } from '../../../src/model/env-file.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Raw = Record<string, any>;

const SECRETS = { DB_PASSWORD: 'hunter2-"quoted"\\back', API_KEY: 'k3y-value' };

function configOf(extra: Raw = {}, opts: { version?: string; secrets?: Record<string, string>; destination?: string } = {}): Configuration {
  return new Configuration(
    {
      service: 'app',
      image: 'acme/app',
      registry: { server: 'registry:5000', username: 'u', password: 'p' },
      servers: { web: ['10.0.0.1', '10.0.0.2'], jobs: { hosts: ['10.0.0.2'], cmd: 'bin/jobs' } },
      builder: { arch: 'amd64' },
      env: { clear: { GREETING: 'hello' }, secret: ['DB_PASSWORD'] },
      ...extra,
    },
    { version: opts.version ?? 'v2', destination: opts.destination, secrets: new MapSecretStore(opts.secrets ?? SECRETS) },
  );
}

/** The env file content Kamal writes for these pairs. */
const envFile = (pairs: Record<string, string>) => new EnvFile(Object.entries(pairs)).content().reveal();
/** Hashes of an env file as the host prints them. */
const fileHashes = (pairs: Record<string, string>) => envHashes(envFile(pairs).split('\n'));
/** Hashes of a container's env. */
const containerEnv = (pairs: Record<string, string>) => envHashes(Object.entries(pairs).map(([k, v]) => `${k}=${v}`));

describe('diffEnv', () => {
  const cases: { name: string; input: Parameters<typeof diffEnv>[0]; expected: KeyChange[] }[] = [
    {
      name: 'nothing changed (image env and volatile keys ignored)',
      input: {
        desiredClear: { GREETING: 'hello', KAMAL_VERSION: 'v2', KAMAL_CONTAINER_NAME: 'app-web-v2' },
        desiredFile: envFile({ DB_PASSWORD: 'pw1' }),
        runningEnv: containerEnv({ GREETING: 'hello', KAMAL_VERSION: 'v1', KAMAL_CONTAINER_NAME: 'app-web-v1', DB_PASSWORD: 'pw1', PATH: '/bin' }),
        runningFile: fileHashes({ DB_PASSWORD: 'pw1' }),
        imageEnv: ['PATH=/bin'],
      },
      expected: [],
    },
    {
      name: 'clear value changed, clear key added, clear key removed: values of the deploy shown, none read on the host',
      input: {
        desiredClear: { GREETING: 'bonjour', NEW_KEY: 'x' },
        desiredFile: envFile({}),
        runningEnv: containerEnv({ GREETING: 'hello', OLD_KEY: 'old', PATH: '/bin' }),
        runningFile: fileHashes({}),
        imageEnv: ['PATH=/bin'],
      },
      expected: [
        { key: 'NEW_KEY', change: 'added', to: 'x' },
        { key: 'GREETING', change: 'changed', to: 'bonjour' },
        { key: 'OLD_KEY', change: 'removed' },
      ],
    },
    {
      name: 'secrets added, changed, removed: names only',
      input: {
        desiredClear: {},
        desiredFile: envFile({ A: 'same', B: 'new-value', C: 'brand-new' }),
        runningEnv: containerEnv({ A: 'same', B: 'old-value', D: 'gone' }),
        runningFile: fileHashes({ A: 'same', B: 'old-value', D: 'gone' }),
      },
      expected: [
        { key: 'C', change: 'added', secret: true },
        { key: 'B', change: 'changed', secret: true },
        { key: 'D', change: 'removed', secret: true },
      ],
    },
    {
      name: 'a secret value with escapes compares equal to the same value',
      input: {
        desiredClear: {},
        desiredFile: envFile({ S: 'line1\nline2 "q" #h é' }),
        runningEnv: containerEnv({ S: 'line1\nline2 "q" #h é' }),
        runningFile: fileHashes({ S: 'line1\nline2 "q" #h é' }),
      },
      expected: [],
    },
    {
      name: 'env file unreadable: secrets compared with the container env, removals not guessed',
      input: {
        desiredClear: { GREETING: 'hello' },
        desiredFile: envFile({ S: 'a "b"\nc', T: 't2' }),
        runningEnv: containerEnv({ GREETING: 'hello', S: 'a "b"\nc', T: 't1', MAYBE_SECRET: 'x' }),
        runningFile: null,
      },
      expected: [{ key: 'T', change: 'changed', secret: true }],
    },
    {
      name: 'a key moving from secret to clear is a removed secret and an added clear value',
      input: {
        desiredClear: { TOKEN_URL: 'https://x' },
        desiredFile: envFile({}),
        runningEnv: containerEnv({ TOKEN_URL: 'secret-url' }),
        runningFile: fileHashes({ TOKEN_URL: 'secret-url' }),
      },
      expected: [{ key: 'TOKEN_URL', change: 'removed', secret: true }],
    },
  ];
  for (const c of cases) it(c.name, () => expect(diffEnv(c.input)).toEqual(c.expected));
});

describe('diffLabels and diffVolumes', () => {
  it.each([
    [{ service: 'app', role: 'web' }, { service: 'app', role: 'web' }, {}, []],
    [
      { service: 'app', role: 'web', team: 'b' },
      { service: 'app', role: 'web', team: 'a', old: '1', 'org.opencontainers.image.title': 'x' },
      { 'org.opencontainers.image.title': 'x' },
      [
        { key: 'team', change: 'changed', from: 'a', to: 'b' },
        { key: 'old', change: 'removed', from: '1' },
      ],
    ],
    [{ service: 'app', extra: 'v' }, { service: 'app' }, null, [{ key: 'extra', change: 'added', to: 'v' }]],
  ] as [Record<string, string>, Record<string, string>, Record<string, string> | null, KeyChange[]][])('labels %#', (desired, running, image, expected) => {
    expect(diffLabels(desired, running, image)).toEqual(expected);
  });

  it.each([
    [['/data:/data'], ['/data:/data'], '/root', []],
    [['$PWD/app/storage:/rails/storage'], ['/home/deploy/app/storage:/rails/storage'], '/home/deploy', []],
    [
      ['$PWD/app/storage:/rails/storage', '/logs:/logs:ro'],
      ['/home/deploy/app/storage:/rails/storage', '/old:/old'],
      '/home/deploy',
      [
        { volume: '/logs:/logs:ro', change: 'added' },
        { volume: '/old:/old', change: 'removed' },
      ],
    ],
  ] as [string[], string[], string, unknown[]][])('volumes %#', (desired, binds, home, expected) => {
    expect(diffVolumes(desired, binds, home)).toEqual(expected);
  });
});

describe('diffOptions', () => {
  const running = (hc: Record<string, unknown>, config: ContainerInspect['Config'] = {}): ContainerInspect => ({
    Config: { Cmd: ['bin/web'], ...config },
    HostConfig: { NetworkMode: 'kamal', RestartPolicy: { Name: 'unless-stopped' }, LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } }, ...hc },
  });
  const base: [string, (string | true)[]][] = [
    ['--restart', ['unless-stopped']],
    ['--network', ['kamal']],
    ['--log-opt', ['max-size=10m']],
  ];
  const cases: { name: string; desired: [string, (string | true)[]][]; running: ContainerInspect; cmd?: string[]; expected: KeyChange[] }[] = [
    {
      name: 'same options (the swap limit docker sets with --memory is not a change)',
      desired: [...base, ['--memory', ['512m']], ['--cap-add', ['SYS_PTRACE']]],
      running: running({ Memory: 536870912, MemorySwap: 1073741824, CapAdd: ['SYS_PTRACE'] }),
      expected: [],
    },
    {
      name: 'a swap limit of its own is reported when dropped',
      desired: [...base, ['--memory', ['512m']]],
      running: running({ Memory: 536870912, MemorySwap: 600000000 }),
      expected: [{ key: '--memory-swap', change: 'removed', from: '600000000' }],
    },
    {
      name: 'memory and cpus changed, cap added, log option changed',
      desired: [
        ['--restart', ['unless-stopped']],
        ['--network', ['kamal']],
        ['--log-opt', ['max-size=100m']],
        ['--memory', ['1g']],
        ['--cpus', ['1.5']],
        ['--cap-add', ['NET_ADMIN']],
      ],
      running: running({ Memory: 536870912, NanoCpus: 1e9 }),
      expected: [
        { key: '--cap-add', change: 'added', to: 'NET_ADMIN' },
        { key: '--cpus', change: 'changed', from: '1000000000', to: '1500000000' },
        { key: '--log-opt max-size', change: 'changed', from: '10m', to: '100m' },
        { key: '--memory', change: 'changed', from: '536870912', to: '1073741824' },
      ],
    },
    {
      name: 'options the running container has and the configuration dropped',
      desired: base,
      running: running({ Privileged: true, ExtraHosts: ['db:10.0.0.9'], RestartPolicy: { Name: 'unless-stopped' } }),
      expected: [
        { key: '--add-host', change: 'removed', from: 'db:10.0.0.9' },
        { key: '--privileged', change: 'removed', from: 'true' },
      ],
    },
    {
      name: 'a hostname is compared when the configuration gives one (a container always has one)',
      desired: [...base, ['--hostname', ['db-two']]],
      running: running({}, { Hostname: 'db-box' }),
      expected: [{ key: '--hostname', change: 'changed', from: 'db-box', to: 'db-two' }],
    },
    { name: 'no hostname given', desired: base, running: running({}, { Hostname: 'a1b2c3' }), expected: [] },
    {
      name: 'restart policy and published ports',
      desired: [
        ['--restart', ['on-failure:3']],
        ['--network', ['kamal']],
        ['--publish', ['127.0.0.1:8080:80']],
      ],
      running: running({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } }),
      expected: [
        { key: '--publish', change: 'changed', from: ':8080:80/tcp', to: '127.0.0.1:8080:80/tcp' },
        { key: '--restart', change: 'changed', from: 'unless-stopped', to: 'on-failure:3' },
      ],
    },
    {
      name: 'an option inspect does not show, and the command',
      desired: [...base, ['--mount', ['type=tmpfs,destination=/x']]],
      running: running({}),
      cmd: ['bin/jobs'],
      expected: [
        { key: '--mount', change: 'changed', to: 'type=tmpfs,destination=/x (not comparable with the running container)' },
        { key: 'cmd', change: 'changed', from: 'bin/web', to: 'bin/jobs' },
      ],
    },
  ];
  for (const c of cases) it(c.name, () => expect(diffOptions(new Map(c.desired), c.running, c.cmd ? { cmd: c.cmd } : {})).toEqual(c.expected));
});

describe('diffProxy', () => {
  const state = (options: Record<string, unknown>, target: Record<string, unknown>): ProxyServiceState => ({
    name: 'app-web',
    options: {
      hosts: ['app.example.com'],
      path_prefixes: ['/'],
      strip_prefix: true,
      tls_enabled: false,
      tls_redirect: true,
      tls_certificate_path: '',
      ...options,
    },
    target_options: {
      health_check_config: { path: '/up', port: 0, interval: 1e9, timeout: 5e9, host: '' },
      response_timeout: 30e9,
      buffer_requests: true,
      buffer_responses: true,
      max_memory_buffer_size: 1048576,
      max_request_body_size: 0,
      max_response_body_size: 0,
      log_request_headers: ['Cache-Control', 'Last-Modified', 'User-Agent'],
      log_response_headers: [],
      forward_headers: true,
      ...target,
    },
  });
  const kamalDefaults = (extra: [string, unknown][] = []): Map<string, unknown> =>
    new Map<string, unknown>([
      ['host', ['app.example.com']],
      ['deploy-timeout', '30s'],
      ['drain-timeout', '30s'],
      ['buffer-requests', true],
      ['buffer-responses', true],
      ['log-request-header', ['Cache-Control', 'Last-Modified', 'User-Agent']],
      ...extra,
    ]);
  it.each([
    ['same settings (deploy and drain timeouts are not kept by the proxy)', kamalDefaults(), state({}, {}), []],
    [
      'host, health check path and interval, response timeout',
      kamalDefaults([
        ['host', ['new.example.com']],
        ['health-check-path', '/health'],
        ['health-check-interval', '3s'],
        ['target-timeout', '60s'],
      ]),
      state({}, {}),
      [
        { key: 'hosts', change: 'changed', from: 'app.example.com', to: 'new.example.com' },
        { key: 'health-check-path', change: 'changed', from: '/up', to: '/health' },
        { key: 'health-check-interval', change: 'changed', from: '1s', to: '3s' },
        { key: 'target-timeout', change: 'changed', from: '30s', to: '60s' },
      ],
    ],
    [
      'tls turned on, path prefix added',
      kamalDefaults([
        ['tls', true],
        ['path-prefix', ['api']],
      ]),
      state({}, {}),
      [
        { key: 'path-prefix', change: 'changed', from: '/', to: '/api' },
        { key: 'tls', change: 'changed', from: 'false', to: 'true' },
        { key: 'forward-headers', change: 'changed', from: 'true', to: 'false' },
      ],
    ],
    ['the proxy has no such service yet: nothing to compare', kamalDefaults(), undefined, []],
  ] as [string, Map<string, unknown>, ProxyServiceState | undefined, KeyChange[]][])('%s', (_n, desired, running, expected) => {
    expect(diffProxy(desired, running)).toEqual(expected);
  });

  it('reads the options Kamal passes for a role', () => {
    const config = configOf({ proxy: { host: 'app.example.com', healthcheck: { path: '/health' } } });
    expect(diffProxy(config.role('web')!.proxy!.deployOptions(), state({}, {}))).toEqual([
      { key: 'health-check-path', change: 'changed', from: '/up', to: '/health' },
    ]);
  });
});

/** Facts of a host that runs exactly what `config` would run at `version`. */
function runningAsConfigured(
  config: Configuration,
  host: string,
  version: string,
  tweak: (c: RunningContainer, role: string) => void = () => undefined,
): HostFacts {
  const roles: Record<string, RunningContainer> = {};
  for (const role of config.hostRoles(host)) {
    const spec = desiredAppSpec(config, role, host);
    const env = { ...spec.env, KAMAL_VERSION: version, KAMAL_CONTAINER_NAME: role.containerName(version) };
    const file = role.secretsIo(host).reveal();
    const c: RunningContainer = {
      version,
      inspect: {
        Config: { Image: `${config.repository}:${version}`, Labels: spec.labels, Cmd: spec.cmd.length > 0 ? spec.cmd : ['httpd'] },
        HostConfig: {
          NetworkMode: 'kamal',
          RestartPolicy: { Name: 'unless-stopped' },
          LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
          Binds: [],
        },
      },
      env: { ...containerEnv(env), ...envHashes(file.split('\n').map((l) => l)) },
      image: { Env: ['PATH=/bin'], Labels: {}, Cmd: ['httpd'] },
      envFile: envHashes(file.split('\n')),
    };
    tweak(c, role.name);
    roles[role.name] = c;
  }
  const containers = Object.entries(roles).map(([r, c]) => ({ name: `app-${r}-${c.version}`, role: r, state: 'running' }));
  return { host, home: '/root', containers, roles, accessories: {}, proxy: [] };
}

describe('computeDiff', () => {
  it('the same configuration at the same version: nothing changes', () => {
    const v1 = configOf({}, { version: 'v1' });
    const facts = ['10.0.0.1', '10.0.0.2'].map((h) => runningAsConfigured(v1, h, 'v1'));
    const r = computeDiff({ config: v1, roles: v1.allRoles, hosts: v1.allHosts, accessories: [], facts });
    expect(r.changed).toBe(false);
    expect(r.roles.map((x) => `${x.role}@${x.host}:${x.status}`)).toEqual(['web@10.0.0.1:unchanged', 'web@10.0.0.2:unchanged', 'jobs@10.0.0.2:unchanged']);
    expect(diffText(r)).toBe(
      [
        'app: deploy of v1 (registry:5000/acme/app:v1)',
        '',
        'web on 10.0.0.1: unchanged (v1)',
        'web on 10.0.0.2: unchanged (v1)',
        'jobs on 10.0.0.2: unchanged (v1)',
        '',
        'Nothing would change.',
        '',
      ].join('\n'),
    );
  });

  it('hosts added (no container of the service) and roles left out (running where no longer configured)', () => {
    const before = configOf({ servers: { web: ['10.0.0.1'], jobs: { hosts: ['10.0.0.1'], cmd: 'bin/jobs' } } }, { version: 'v1' });
    const now = configOf({ servers: { web: ['10.0.0.1', '10.0.0.3'] } }, { version: 'v1' });
    const facts = [runningAsConfigured(before, '10.0.0.1', 'v1'), { host: '10.0.0.3', home: '/root', containers: [], roles: {}, accessories: {} }];
    const r = computeDiff({ config: now, roles: now.allRoles, hosts: now.allHosts, accessories: [], facts });
    expect(r.changed).toBe(true);
    expect(r.hostsAdded).toEqual(['10.0.0.3']);
    expect(r.leftOut).toEqual([{ host: '10.0.0.1', role: 'jobs', version: 'v1' }]);
    expect(r.roles.map((x) => `${x.role}@${x.host}:${x.status}`)).toEqual(['web@10.0.0.1:unchanged', 'web@10.0.0.3:new']);
    expect(diffText(r)).toBe(
      [
        'app: deploy of v1 (registry:5000/acme/app:v1)',
        '',
        'web on 10.0.0.1: unchanged (v1)',
        'web on 10.0.0.3: new, v1 would be its first container',
        'hosts added (no container of app yet): 10.0.0.3',
        'left out: jobs on 10.0.0.1 runs v1 but the role is no longer configured there (a deploy leaves it running)',
        '',
        'A deploy would change what is listed above.',
        '',
      ].join('\n'),
    );
  });

  it('a new version with a changed secret, a label and a volume, and a host that could not be read', () => {
    const v1 = configOf({}, { version: 'v1' });
    const v2 = configOf({ labels: { team: 'core' }, volumes: ['data:/data'] }, { version: 'v2', secrets: { ...SECRETS, DB_PASSWORD: 'rotated' } });
    const facts: HostFacts[] = [
      runningAsConfigured(v1, '10.0.0.1', 'v1'),
      { host: '10.0.0.2', error: 'connection refused', containers: [], roles: {}, accessories: {} },
    ];
    const r = computeDiff({ config: v2, roles: v2.allRoles, hosts: v2.allHosts, accessories: [], facts });
    const web = r.roles[0]!;
    expect(web).toMatchObject({
      role: 'web',
      host: '10.0.0.1',
      status: 'changed',
      runningVersion: 'v1',
      version: 'v2',
      image: { running: 'registry:5000/acme/app:v1', desired: 'registry:5000/acme/app:v2' },
      env: [{ key: 'DB_PASSWORD', change: 'changed', secret: true }],
      labels: [{ key: 'team', change: 'added', to: 'core' }],
      volumes: [{ volume: 'data:/data', change: 'added' }],
      options: [],
    });
    expect(r.roles.slice(1).map((x) => `${x.role}@${x.host}:${x.status}:${x.error}`)).toEqual([
      'web@10.0.0.2:unreachable:connection refused',
      'jobs@10.0.0.2:unreachable:connection refused',
    ]);
    expect(diffText(r).split('\n').slice(2, 13)).toEqual([
      'web on 10.0.0.1: v1 → v2',
      '  image:',
      '    ~ registry:5000/acme/app:v1 → registry:5000/acme/app:v2',
      '  env:',
      '    ~ DB_PASSWORD (secret, changed)',
      '  labels:',
      '    + team=core',
      '  volumes:',
      '    + data:/data',
      'web on 10.0.0.2: could not be read (connection refused)',
      'jobs on 10.0.0.2: could not be read (connection refused)',
    ]);
    expect(JSON.stringify(r)).not.toContain('rotated');
  });
});

describe('redactReport', () => {
  const value = 'p@ss "word"/+x';
  const registry = new SecretRegistry();
  registry.add(value);
  const forms: [string, string][] = [
    ['as is', value],
    ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
    ['base64', Buffer.from(value).toString('base64')],
    ['base64 unpadded', Buffer.from(value).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(value).toString('base64url')],
    ['URL-encoded', encodeURIComponent(value)],
    ['inside base64 of user:value', Buffer.from(`user:${value}`).toString('base64')],
  ];
  it.each(forms)('%s', (_name, form) => {
    expect(secretForms(value).some((f) => form.includes(f))).toBe(true);
    const report: DiffReport = {
      service: 'app',
      version: 'v2',
      image: 'acme/app:v2',
      changed: true,
      roles: [
        {
          role: 'web',
          host: 'h',
          status: 'changed',
          version: 'v2',
          image: { desired: 'acme/app:v2' },
          env: [{ key: 'URL', change: 'changed', to: `https://x/?t=${form}` }],
          labels: [{ key: 'note', change: 'added', to: form }],
          options: [],
          volumes: [],
          proxy: [],
          error: `failed: ${form}`,
        },
      ],
      hostsAdded: [],
      leftOut: [],
      accessories: [],
    };
    const text = JSON.stringify(redactReport(report, registry));
    expect(text).not.toContain(form);
    expect(text).toContain('[REDACTED]');
    expect(JSON.parse(text).changed).toBe(true);
  });
});

describe('what the hosts print', () => {
  it('hash lines and service containers', () => {
    const h = 'a'.repeat(64);
    expect(parseHashLines(`A ${h}  -\nB_2 ${h}  -\n\nbad line\n`)).toEqual({ A: h, B_2: h });
    expect(parseServiceContainers('app-web-v1 web running\napp-web-v0 web exited\n\n')).toEqual([
      { name: 'app-web-v1', role: 'web', state: 'running' },
      { name: 'app-web-v0', role: 'web', state: 'exited' },
    ]);
  });
});
