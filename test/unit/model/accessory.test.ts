// Ported from Kamal's test/configuration/accessory_test.rb (v2.12.0). Key
// combination and restart policy type checks are schema validation (loader);
// ERB rendering of `.erb` files happens in the loader too (files are flagged `dynamic`).
import { resolve } from 'node:path';
import { describe } from 'vitest';
import { args, config, runModelCases, type ModelCase, type Raw } from './helpers.js';

const deploy = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: {
    web: [{ '1.1.1.1': 'writer' }, { '1.1.1.2': 'reader' }],
    workers: [{ '1.1.1.3': 'writer' }, '1.1.1.4'],
  },
  builder: { arch: 'amd64' },
  env: { REDIS_URL: 'redis://x/y' },
  accessories: {
    mysql: {
      image: 'public.registry/mysql:8.0',
      host: '1.1.1.5',
      port: '3306',
      env: { clear: { MYSQL_ROOT_HOST: '%' }, secret: ['MYSQL_ROOT_PASSWORD'] },
      files: ['config/mysql/my.cnf:/etc/mysql/my.cnf', 'db/structure.sql:/docker-entrypoint-initdb.d/structure.sql'],
      directories: ['data:/var/lib/mysql'],
    },
    redis: {
      image: 'redis:latest',
      hosts: ['1.1.1.6', '1.1.1.7'],
      port: '6379:6379',
      labels: { cache: 'true' },
      env: { SOMETHING: 'else' },
      volumes: ['/var/lib/redis:/data'],
      options: { cpus: '4', memory: '2GB' },
    },
    monitoring: {
      service: 'custom-monitoring',
      image: 'monitoring:latest',
      registry: { server: 'other.registry', username: 'user', password: 'pw' },
      role: 'web',
      port: '4321:4321',
      labels: { cache: 'true' },
      env: { STATSD_PORT: '8126' },
      options: { cpus: '4', memory: '2GB' },
      proxy: { host: 'monitoring.example.com' },
    },
    proxy: { image: 'proxy:latest', tags: ['writer', 'reader'] },
    logger: { image: 'logger:latest', tag: 'writer' },
  },
});

const cfg = (change?: (d: Raw) => void) => {
  const d = deploy();
  change?.(d);
  return config(d, { secretValues: { MYSQL_ROOT_PASSWORD: 'secret123' }, cwd: '/project' });
};
const mysql = (change?: (d: Raw) => void) => cfg(change).accessory('mysql')!;

const cases: ModelCase[] = [
  {
    name: 'service name',
    run: () => ['mysql', 'redis', 'monitoring'].map((n) => cfg().accessory(n)!.serviceName),
    expected: ['app-mysql', 'app-redis', 'custom-monitoring'],
  },
  {
    name: 'image',
    run: () => ['mysql', 'redis', 'monitoring'].map((n) => cfg().accessory(n)!.image),
    expected: ['public.registry/mysql:8.0', 'redis:latest', 'other.registry/monitoring:latest'],
  },
  {
    name: 'registry',
    run: () => {
      const c = cfg();
      const r = c.accessory('monitoring')!.registry!;
      return [c.accessory('mysql')!.registry, c.accessory('redis')!.registry, r.server, r.username, r.password?.reveal()];
    },
    expected: [undefined, undefined, 'other.registry', 'user', 'pw'],
  },
  { name: 'port', run: () => [cfg().accessory('mysql')!.port, cfg().accessory('redis')!.port], expected: ['3306:3306', '6379:6379'] },
  {
    name: 'host',
    run: () => ['mysql', 'redis', 'monitoring', 'proxy', 'logger'].map((n) => cfg().accessory(n)!.hosts),
    expected: [['1.1.1.5'], ['1.1.1.6', '1.1.1.7'], ['1.1.1.1', '1.1.1.2'], ['1.1.1.1', '1.1.1.3', '1.1.1.2'], ['1.1.1.1', '1.1.1.3']],
  },
  {
    name: 'all hosts',
    run: () => cfg().allHosts,
    expected: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6', '1.1.1.7'],
  },
  {
    name: 'label args',
    run: () => [args(cfg().accessory('mysql')!.labelArgs()), args(cfg().accessory('redis')!.labelArgs())],
    expected: ['--label service="app-mysql"', '--label service="app-redis" --label cache="true"'],
  },
  {
    name: 'env args',
    run: () => {
      const c = cfg();
      return [
        args(c.accessory('mysql')!.envArgs()),
        c.accessory('mysql')!.secretsIo().reveal(),
        args(c.accessory('redis')!.envArgs()),
        c.accessory('redis')!.secretsIo().reveal(),
      ];
    },
    expected: [
      '--env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env',
      'MYSQL_ROOT_PASSWORD=secret123\n',
      '--env SOMETHING="else" --env-file .kamal/apps/app/env/accessories/redis.env',
      '\n',
    ],
  },
  {
    name: 'volume args',
    run: () => [args(cfg().accessory('mysql')!.volumeArgs()), args(cfg().accessory('redis')!.volumeArgs())],
    expected: [
      '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/docker-entrypoint-initdb.d/structure.sql:/docker-entrypoint-initdb.d/structure.sql --volume $PWD/app-mysql/data:/var/lib/mysql',
      '--volume /var/lib/redis:/data',
    ],
  },
  {
    name: 'volume args with docker named volume',
    run: () =>
      args(
        cfg((d) => (d.accessories.redis.volumes = ['redis_data:/data']))
          .accessory('redis')!
          .volumeArgs(),
      ),
    expected: '--volume redis_data:/data',
  },
  {
    name: 'dynamic files are flagged (ERB rendered by the loader)',
    run: () =>
      mysql((d) => d.accessories.mysql.files.push('test/fixtures/files/structure.sql.erb:/docker-entrypoint-initdb.d/structure.sql')).files.map((f) => [
        f.local,
        f.dynamic,
      ]),
    expected: [
      [resolve('/project', 'config/mysql/my.cnf'), false],
      [resolve('/project', 'db/structure.sql'), false],
      [resolve('/project', 'test/fixtures/files/structure.sql.erb'), true],
    ],
  },
  {
    name: 'directory with a relative path',
    run: () => mysql((d) => (d.accessories.mysql.directories = ['data:/var/lib/mysql'])).directories,
    expected: [
      { path: '$PWD/app-mysql/data', hostPath: 'app-mysql/data', containerPath: '/var/lib/mysql', options: undefined, mode: undefined, owner: undefined },
    ],
  },
  {
    name: 'directory with an absolute path',
    run: () => mysql((d) => (d.accessories.mysql.directories = ['/var/data/mysql:/var/lib/mysql'])).directories,
    expected: [
      { path: '/var/data/mysql', hostPath: '/var/data/mysql', containerPath: '/var/lib/mysql', options: undefined, mode: undefined, owner: undefined },
    ],
  },
  {
    name: 'directory with mount options',
    run: () => {
      const a = mysql((d) => {
        d.accessories.mysql.files = [];
        d.accessories.mysql.directories = ['data:/var/lib/mysql:z'];
      });
      return [a.directories, args(a.volumeArgs())];
    },
    expected: [
      [{ path: '$PWD/app-mysql/data', hostPath: 'app-mysql/data', containerPath: '/var/lib/mysql', options: 'z', mode: undefined, owner: undefined }],
      '--volume $PWD/app-mysql/data:/var/lib/mysql:z',
    ],
  },
  {
    name: 'file with mount options',
    run: () => {
      const a = mysql((d) => {
        d.accessories.mysql.files = ['config/mysql/my.cnf:/etc/mysql/my.cnf:ro,z'];
        d.accessories.mysql.directories = [];
      });
      return [a.files[0]!.options, args(a.volumeArgs())];
    },
    expected: ['ro,z', '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:ro,z'],
  },
  {
    name: 'file with string format has default mode',
    run: () => {
      const f = mysql((d) => (d.accessories.mysql.files = ['config/mysql/my.cnf:/etc/mysql/my.cnf'])).files[0]!;
      return [f.mode, f.owner];
    },
    expected: ['755', undefined],
  },
  {
    name: 'file with hash format and custom mode',
    run: () => {
      const f = mysql((d) => (d.accessories.mysql.files = [{ local: 'config/mysql/my.cnf', remote: '/etc/mysql/my.cnf', mode: '0600' }])).files[0]!;
      return [f.mode, f.owner];
    },
    expected: ['0600', undefined],
  },
  {
    name: 'file with hash format and custom owner',
    run: () => {
      const f = mysql((d) => (d.accessories.mysql.files = [{ local: 'config/mysql/my.cnf', remote: '/etc/mysql/my.cnf', owner: 'mysql:mysql' }])).files[0]!;
      return [f.mode, f.owner];
    },
    expected: ['755', 'mysql:mysql'],
  },
  {
    name: 'file with hash format and all options',
    run: () => {
      const a = mysql((d) => {
        d.accessories.mysql.files = [{ local: 'config/mysql/my.cnf', remote: '/etc/mysql/my.cnf', mode: '0640', owner: '1000:1000', options: 'Z' }];
        d.accessories.mysql.directories = [];
      });
      const f = a.files[0]!;
      return [f.mode, f.owner, f.options, args(a.volumeArgs())];
    },
    expected: ['0640', '1000:1000', 'Z', '--volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:Z'],
  },
  {
    name: 'file with hash format erb expansion (flagged dynamic)',
    run: () =>
      mysql((d) => (d.accessories.mysql.files = [{ local: 'test/fixtures/files/structure.sql.erb', remote: '/docker-entrypoint-initdb.d/structure.sql' }]))
        .files[0]!.dynamic,
    expected: true,
  },
  {
    name: 'directory with hash format and custom mode',
    run: () => {
      const dir = mysql((d) => (d.accessories.mysql.directories = [{ local: 'data', remote: '/var/lib/mysql', mode: '0750' }])).directories[0]!;
      return [dir.mode, dir.owner];
    },
    expected: ['0750', undefined],
  },
  {
    name: 'directory with hash format and custom owner',
    run: () => {
      const dir = mysql((d) => (d.accessories.mysql.directories = [{ local: 'data', remote: '/var/lib/mysql', owner: 'mysql:mysql' }])).directories[0]!;
      return [dir.mode, dir.owner];
    },
    expected: [undefined, 'mysql:mysql'],
  },
  {
    name: 'directory with hash format and all options',
    run: () => {
      const a = mysql((d) => {
        d.accessories.mysql.files = [];
        d.accessories.mysql.directories = [{ local: 'data', remote: '/var/lib/mysql', mode: '0750', owner: '1000:1000', options: 'z' }];
      });
      const dir = a.directories[0]!;
      return [dir.mode, dir.owner, dir.options, args(a.volumeArgs())];
    },
    expected: ['0750', '1000:1000', 'z', '--volume $PWD/app-mysql/data:/var/lib/mysql:z'],
  },
  { name: 'options', run: () => args(cfg().accessory('redis')!.optionArgs()), expected: '--cpus "4" --memory "2GB"' },
  {
    name: 'restart policy',
    run: () => {
      const a = cfg((d) => (d.accessories.redis.options.restart = 'always')).accessory('redis')!;
      return [a.restartPolicy, args(a.optionArgs())];
    },
    expected: ['always', '--cpus "4" --memory "2GB"'],
  },
  { name: 'default restart policy', run: () => cfg().accessory('redis')!.restartPolicy, expected: 'unless-stopped' },
  { name: 'network_args default', run: () => args(cfg().accessory('mysql')!.networkArgs()), expected: '--network kamal' },
  {
    name: 'network_args with configured options',
    run: () => args(mysql((d) => (d.accessories.mysql.network = 'database')).networkArgs()),
    expected: '--network database',
  },
  {
    name: 'proxy',
    run: () => [cfg().accessory('monitoring')!.runningProxy, cfg().accessory('monitoring')!.proxy!.hosts],
    expected: [true, ['monitoring.example.com']],
  },
  // beyond Kamal's tests
  {
    name: 'no proxy without proxy settings',
    run: () => [cfg().accessory('mysql')!.runningProxy, cfg().accessory('mysql')!.proxy],
    expected: [false, undefined],
  },
  {
    name: 'accessory on roles',
    run: () => cfg((d) => (d.accessories.logger = { image: 'logger:latest', roles: ['workers', 'web'] })).accessory('logger')!.hosts,
    expected: ['1.1.1.3', '1.1.1.4', '1.1.1.1', '1.1.1.2'],
  },
  {
    name: 'file remote paths live under the service directory',
    run: () =>
      cfg()
        .accessory('mysql')!
        .files.map((f) => [f.hostPath, f.containerPath]),
    expected: [
      ['app-mysql/etc/mysql/my.cnf', '/etc/mysql/my.cnf'],
      ['app-mysql/docker-entrypoint-initdb.d/structure.sql', '/docker-entrypoint-initdb.d/structure.sql'],
    ],
  },
  {
    name: 'secrets path with destination',
    run: () => config(deploy(), { destination: 'beta' }).accessory('redis')!.secretsPath,
    expected: '.kamal/apps/app-beta/env/accessories/redis.env',
  },
  {
    name: 'missing secret is a configuration error when the env file is built',
    run: () => config(deploy()).accessory('mysql')!.secretsIo(),
    error: "Secret 'MYSQL_ROOT_PASSWORD' not found",
  },
];

describe('Accessory', () => runModelCases(cases));
