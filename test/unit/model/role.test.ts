// Ported from Kamal's test/configuration/role_test.rb (v2.12.0). The restart
// policy type check is schema validation and is tested with the loader.
import { describe } from 'vitest';
import { args, config, runModelCases, type ModelCase, type Raw } from './helpers.js';

const deploy = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: ['1.1.1.1', '1.1.1.2'],
  builder: { arch: 'amd64' },
  env: { REDIS_URL: 'redis://x/y' },
});

const deployWithRoles = (): Raw => ({
  ...deploy(),
  servers: {
    web: ['1.1.1.1', '1.1.1.2'],
    workers: { hosts: ['1.1.1.3', '1.1.1.4'], cmd: 'bin/jobs', env: { REDIS_URL: 'redis://a/b', WEB_CONCURRENCY: '4' } },
  },
});

const withRoles = (change?: (d: Raw) => void, secretValues?: Record<string, string>) => {
  const d = deployWithRoles();
  change?.(d);
  return config(d, { secretValues, version: '12345' });
};

const WORKERS_ENV_ARGS = '--env REDIS_URL="redis://a/b" --env WEB_CONCURRENCY="4" --env-file .kamal/apps/app/env/roles/workers.env';

const cases: ModelCase[] = [
  { name: 'hosts', run: () => config(deploy()).role('web')!.hosts, expected: ['1.1.1.1', '1.1.1.2'] },
  { name: 'hosts (workers)', run: () => withRoles().role('workers')!.hosts, expected: ['1.1.1.3', '1.1.1.4'] },
  {
    name: 'missing env tag is ignored',
    run: () =>
      withRoles((d) => (d.servers.workers.hosts = [{ '1.1.1.3': ['job'] }]))
        .role('workers')!
        .env('1.1.1.3').clear.REDIS_URL,
    expected: 'redis://a/b',
  },
  { name: 'cmd', run: () => config(deploy()).role('web')!.cmd, expected: undefined },
  { name: 'cmd (workers)', run: () => withRoles().role('workers')!.cmd, expected: 'bin/jobs' },
  {
    name: 'label args',
    run: () => args(withRoles().role('workers')!.labelArgs()),
    expected: '--label service="app" --label role="workers" --label destination',
  },
  {
    name: 'special label args for web',
    run: () => args(config(deploy()).role('web')!.labelArgs()),
    expected: '--label service="app" --label role="web" --label destination',
  },
  {
    name: 'custom labels',
    run: () =>
      config({ ...deploy(), labels: { 'my.custom.label': '50' } })
        .role('web')!
        .labels.get('my.custom.label'),
    expected: '50',
  },
  {
    name: 'custom labels via role specialization',
    run: () =>
      withRoles((d) => {
        d.labels = { 'my.custom.label': '50' };
        d.servers.workers.labels = { 'my.custom.label': '70' };
      })
        .role('workers')!
        .labels.get('my.custom.label'),
    expected: '70',
  },
  {
    name: 'default proxy label on non-web role',
    run: () =>
      args(
        withRoles((d) => (d.servers.beta = { proxy: true, hosts: ['1.1.1.5'] }))
          .role('beta')!
          .labelArgs(),
      ),
    expected: '--label service="app" --label role="beta" --label destination',
  },
  { name: 'env overwritten by role', run: () => withRoles().role('workers')!.env('1.1.1.3').clear.REDIS_URL, expected: 'redis://a/b' },
  { name: 'env overwritten by role: args', run: () => args(withRoles().role('workers')!.envArgs('1.1.1.3')), expected: WORKERS_ENV_ARGS },
  { name: 'env overwritten by role: secrets file', run: () => withRoles().role('workers')!.secretsIo('1.1.1.3').reveal(), expected: '\n' },
  { name: 'container name (workers)', run: () => withRoles().role('workers')!.containerName(), expected: 'app-workers-12345' },
  { name: 'container name (web)', run: () => withRoles().role('web')!.containerName(), expected: 'app-web-12345' },
  { name: 'env args', run: () => args(withRoles().role('workers')!.envArgs('1.1.1.3')), expected: WORKERS_ENV_ARGS },
  ...(() => {
    const c = () =>
      withRoles(
        (d) => {
          d.env = { clear: { REDIS_URL: 'redis://a/b' }, secret: ['REDIS_PASSWORD'] };
          d.servers.workers.env = { clear: { REDIS_URL: 'redis://a/b', WEB_CONCURRENCY: '4' }, secret: ['DB_PASSWORD'] };
        },
        { REDIS_PASSWORD: 'secret456', DB_PASSWORD: 'secret&"123' },
      );
    return [
      { name: 'env secret overwritten by role: args', run: () => args(c().role('workers')!.envArgs('1.1.1.3')), expected: WORKERS_ENV_ARGS },
      {
        name: 'env secret overwritten by role: secrets file',
        run: () => c().role('workers')!.secretsIo('1.1.1.3').reveal(),
        expected: 'REDIS_PASSWORD=secret456\nDB_PASSWORD=secret&"123\n',
      },
    ];
  })(),
  ...(() => {
    const c = () =>
      withRoles((d) => (d.servers.workers.env = { clear: { REDIS_URL: 'redis://a/b', WEB_CONCURRENCY: '4' }, secret: ['DB_PASSWORD'] }), {
        DB_PASSWORD: 'secret123',
      });
    return [
      { name: 'env secrets only in role: args', run: () => args(c().role('workers')!.envArgs('1.1.1.3')), expected: WORKERS_ENV_ARGS },
      { name: 'env secrets only in role: secrets file', run: () => c().role('workers')!.secretsIo('1.1.1.3').reveal(), expected: 'DB_PASSWORD=secret123\n' },
    ];
  })(),
  ...(() => {
    const c = () => withRoles((d) => (d.env = { clear: { REDIS_URL: 'redis://a/b' }, secret: ['REDIS_PASSWORD'] }), { REDIS_PASSWORD: 'secret456' });
    return [
      { name: 'env secrets only at top level: args', run: () => args(c().role('workers')!.envArgs('1.1.1.3')), expected: WORKERS_ENV_ARGS },
      {
        name: 'env secrets only at top level: secrets file',
        run: () => c().role('workers')!.secretsIo('1.1.1.3').reveal(),
        expected: 'REDIS_PASSWORD=secret456\n',
      },
    ];
  })(),
  ...(() => {
    const c = () =>
      withRoles(
        (d) => {
          d.env = { clear: { REDIS_URL: 'redis://a/b' }, secret: ['REDIS_PASSWORD'] };
          d.servers.workers.env = { clear: { REDIS_URL: 'redis://c/d' } };
        },
        { REDIS_PASSWORD: 'secret456' },
      );
    return [
      {
        name: 'env overwritten by role with secrets: args',
        run: () => args(c().role('workers')!.envArgs('1.1.1.3')),
        expected: '--env REDIS_URL="redis://c/d" --env-file .kamal/apps/app/env/roles/workers.env',
      },
      {
        name: 'env overwritten by role with secrets: secrets file',
        run: () => c().role('workers')!.secretsIo('1.1.1.3').reveal(),
        expected: 'REDIS_PASSWORD=secret456\n',
      },
    ];
  })(),
  {
    name: 'asset path and volume args: none',
    run: () => {
      const c = withRoles();
      return [
        c.role('web')!.assetVolumeArgs(),
        c.role('workers')!.assetVolumeArgs(),
        c.role('web')!.assetPath,
        c.role('workers')!.assetPath,
        c.role('web')!.assets,
        c.role('workers')!.assets,
      ];
    },
    expected: [undefined, undefined, undefined, undefined, false, false],
  },
  {
    name: 'asset path and volume args: root asset_path',
    run: () => {
      const c = withRoles((d) => (d.asset_path = 'foo'));
      return [
        c.role('web')!.assetPath,
        c.role('workers')!.assetPath,
        args(c.role('web')!.assetVolumeArgs()),
        c.role('workers')!.assetVolumeArgs(),
        c.role('web')!.assets,
        c.role('workers')!.assets,
      ];
    },
    expected: ['foo', 'foo', '--volume $PWD/.kamal/apps/app/assets/volumes/web-12345:foo', undefined, true, false],
  },
  {
    name: 'asset path and volume args: role asset_path',
    run: () => {
      const c = withRoles((d) => (d.servers.web = { hosts: ['1.1.1.1', '1.1.1.2'], asset_path: 'bar' }));
      return [
        c.role('web')!.assetPath,
        c.role('workers')!.assetPath,
        args(c.role('web')!.assetVolumeArgs()),
        c.role('workers')!.assetVolumeArgs(),
        c.role('web')!.assets,
        c.role('workers')!.assets,
      ];
    },
    expected: ['bar', undefined, '--volume $PWD/.kamal/apps/app/assets/volumes/web-12345:bar', undefined, true, false],
  },
  {
    name: 'asset path with mount options',
    run: () => {
      const r = withRoles((d) => (d.asset_path = '/rails/public/assets:z')).role('web')!;
      return [r.assetPath, r.assetPathOptions, args(r.assetVolumeArgs())];
    },
    expected: ['/rails/public/assets', 'z', '--volume $PWD/.kamal/apps/app/assets/volumes/web-12345:/rails/public/assets:z'],
  },
  {
    name: 'asset path with mount options on the role',
    run: () => {
      const r = withRoles((d) => (d.servers.web = { hosts: ['1.1.1.1', '1.1.1.2'], asset_path: '/assets:ro,z' })).role('web')!;
      return [r.assetPath, r.assetPathOptions, args(r.assetVolumeArgs())];
    },
    expected: ['/assets', 'ro,z', '--volume $PWD/.kamal/apps/app/assets/volumes/web-12345:/assets:ro,z'],
  },
  {
    name: 'asset extracted path',
    run: () => [withRoles().role('web')!.assetExtractedDirectory(), withRoles().role('workers')!.assetExtractedDirectory()],
    expected: ['.kamal/apps/app/assets/extracted/web-12345', '.kamal/apps/app/assets/extracted/workers-12345'],
  },
  {
    name: 'asset volume path',
    run: () => [withRoles().role('web')!.assetVolumeDirectory(), withRoles().role('workers')!.assetVolumeDirectory()],
    expected: ['.kamal/apps/app/assets/volumes/web-12345', '.kamal/apps/app/assets/volumes/workers-12345'],
  },
  { name: 'stop args with proxy', run: () => args(withRoles().role('web')!.stopArgs()), expected: '' },
  { name: 'stop args with no proxy', run: () => args(withRoles().role('workers')!.stopArgs()), expected: '-t 30' },
  {
    name: 'restart policy',
    run: () => {
      const r = withRoles((d) => (d.servers.workers.options = { restart: 'on-failure:3', memory: '2g' })).role('workers')!;
      return [r.restartPolicy, args(r.optionArgs())];
    },
    expected: ['on-failure:3', '--memory "2g"'],
  },
  { name: 'default restart policy', run: () => withRoles().role('workers')!.restartPolicy, expected: 'unless-stopped' },
  {
    name: 'stop args with proxy and stop_timeout',
    run: () =>
      args(
        withRoles((d) => (d.servers.web = { hosts: ['1.1.1.1', '1.1.1.2'], stop_timeout: 60 }))
          .role('web')!
          .stopArgs(),
      ),
    expected: '-t 60',
  },
  {
    name: 'stop args with no proxy and stop_timeout',
    run: () =>
      args(
        withRoles((d) => (d.servers.workers = { hosts: ['1.1.1.3', '1.1.1.4'], cmd: 'bin/jobs', stop_timeout: 60 }))
          .role('workers')!
          .stopArgs(),
      ),
    expected: '-t 60',
  },
  {
    name: 'stop args with root stop_timeout',
    run: () => {
      const c = withRoles((d) => (d.stop_timeout = 45));
      return [args(c.role('web')!.stopArgs()), args(c.role('workers')!.stopArgs())];
    },
    expected: ['-t 45', '-t 45'],
  },
  {
    name: 'stop args with role stop_timeout overriding root',
    run: () => {
      const c = withRoles((d) => {
        d.stop_timeout = 45;
        d.servers.web = { hosts: ['1.1.1.1', '1.1.1.2'], stop_timeout: 60 };
      });
      return [args(c.role('web')!.stopArgs()), args(c.role('workers')!.stopArgs())];
    },
    expected: ['-t 60', '-t 45'],
  },
  {
    name: 'role specific proxy config',
    run: () => {
      const c = withRoles((d) => {
        d.proxy = { response_timeout: 15 };
        d.servers.workers.proxy = { response_timeout: 18 };
      });
      return [c.role('web')!.proxy!.deployOptions().get('target-timeout'), c.role('workers')!.proxy!.deployOptions().get('target-timeout')];
    },
    expected: ['15s', '18s'],
  },
  // beyond Kamal's tests
  {
    name: 'secrets path and env directory',
    run: () => [withRoles().role('workers')!.secretsPath, withRoles().role('workers')!.envDirectory],
    expected: ['.kamal/apps/app/env/roles/workers.env', '.kamal/apps/app/env/roles'],
  },
  {
    name: 'secrets path with destination',
    run: () => config(deploy(), { destination: 'staging' }).role('web')!.secretsPath,
    expected: '.kamal/apps/app-staging/env/roles/web.env',
  },
  {
    name: 'container prefix with destination',
    run: () => config(deploy(), { destination: 'staging' }).role('web')!.containerPrefix,
    expected: 'app-web-staging',
  },
  { name: 'container name for a version', run: () => config(deploy()).role('web')!.containerName('abc'), expected: 'app-web-abc' },
  {
    name: 'primary role proxy: false turns it off',
    run: () => config({ ...deploy(), servers: { web: { hosts: ['1.1.1.1'], proxy: false } } }).role('web')!.runningProxy,
    expected: false,
  },
  {
    name: 'role proxy merges over the root proxy',
    run: () => {
      const c = withRoles((d) => {
        d.proxy = { host: 'example.com', healthcheck: { path: '/up', interval: 3 } };
        d.servers.workers.proxy = { host: 'workers.example.com', healthcheck: { path: '/health' } };
      });
      return Object.fromEntries(c.role('workers')!.proxy!.deployOptions());
    },
    expected: {
      host: ['workers.example.com'],
      'deploy-timeout': '30s',
      'drain-timeout': '30s',
      'health-check-interval': '3s',
      'health-check-path': '/health',
      'buffer-requests': true,
      'buffer-responses': true,
      'path-prefix': [],
      'log-request-header': ['Cache-Control', 'Last-Modified', 'User-Agent'],
    },
  },
  {
    name: 'ssl with custom certificates on several hosts is allowed',
    run: () =>
      config({ ...deploy(), proxy: { host: 'example.com', ssl: { certificate_pem: 'CERT', private_key_pem: 'KEY' } } }).role('web')!.proxy!.containerTlsCert,
    expected: '/home/kamal-proxy/.apps-config/app/tls/web/cert.pem',
  },
];

describe('Role', () => runModelCases(cases));
