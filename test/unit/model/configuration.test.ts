// Ported from Kamal's test/configuration_test.rb (v2.12.0). Loading files,
// ERB and destinations belong to the config loader and are tested there.
import { describe } from 'vitest';
import { KAMAL_VERSION } from '../../../src/model/index.js';
import { args, config, runModelCases, type ModelCase, type Raw } from './helpers.js';

const deploy = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  builder: { arch: 'amd64' },
  env: { REDIS_URL: 'redis://x/y' },
  servers: ['1.1.1.1', '1.1.1.2'],
  volumes: ['/local/path:/container/path'],
});

const deployWithRoles = (): Raw => ({
  ...deploy(),
  servers: { web: ['1.1.1.1', '1.1.1.2'], workers: { hosts: ['1.1.1.1', '1.1.1.3'] } },
});

const without = (key: string): Raw => {
  const d = deploy();
  delete d[key];
  return d;
};

const cases: ModelCase[] = [
  { name: 'service config required', run: () => config(without('service')), error: 'Missing required configuration for service' },
  { name: 'image config required', run: () => config(without('image')), error: 'Missing required configuration for image' },
  // Kamal's Registry validator runs before ensure_required_keys_present, so its errors come first
  {
    name: 'registry config required',
    run: () => config(without('registry')),
    error: 'registry/username: is required\nregistry/password: is required\nMissing required configuration for registry',
  },
  {
    name: 'image uses service name if registry is local',
    run: () => config({ ...without('image'), registry: { server: 'localhost:5000' } }).image,
    expected: 'app',
  },
  { name: 'image uses image if registry is local', run: () => config({ ...deploy(), registry: { server: 'localhost:5000' } }).image, expected: 'dhh/app' },
  {
    name: 'service name valid (hyphens, digits, underscores)',
    run: () => config({ ...deploy(), service: 'hey-app1_primary' }).service,
    expected: 'hey-app1_primary',
  },
  { name: 'service name valid (mixed case)', run: () => config({ ...deploy(), service: 'MyApp' }).service, expected: 'MyApp' },
  {
    name: 'service name invalid',
    run: () => config({ ...deploy(), service: 'app.com' }),
    error: 'Service name can only include alphanumeric characters, hyphens, and underscores',
  },
  { name: 'servers required', run: () => config(without('servers')), error: 'No servers or accessories specified' },
  {
    name: 'servers not required with accessories',
    run: () => config({ ...without('servers'), accessories: { foo: { image: 'foo/bar', host: '1.1.1.1' } } }).allHosts,
    expected: ['1.1.1.1'],
  },
  { name: 'roles', run: () => config(deploy()).roles.map((r) => r.name), expected: ['web'] },
  { name: 'roles (with roles)', run: () => config(deployWithRoles()).roles.map((r) => r.name), expected: ['web', 'workers'] },
  { name: 'role', run: () => config(deploy()).role('web')?.name, expected: 'web' },
  { name: 'role (workers)', run: () => config(deployWithRoles()).role('workers')?.name, expected: 'workers' },
  { name: 'role (missing)', run: () => config(deploy()).role('missing'), expected: undefined },
  { name: 'all hosts', run: () => config(deploy()).allHosts, expected: ['1.1.1.1', '1.1.1.2'] },
  { name: 'all hosts (with roles)', run: () => config(deployWithRoles()).allHosts, expected: ['1.1.1.1', '1.1.1.2', '1.1.1.3'] },
  { name: 'primary host', run: () => config(deploy()).primaryHost, expected: '1.1.1.1' },
  { name: 'primary host (with roles)', run: () => config(deployWithRoles()).primaryHost, expected: '1.1.1.1' },
  { name: 'proxy hosts', run: () => config(deployWithRoles()).proxyHosts, expected: ['1.1.1.1', '1.1.1.2'] },
  {
    name: 'proxy hosts with a proxied workers role',
    run: () => {
      const d = deployWithRoles();
      d.servers.workers.proxy = true;
      return config(d).proxyHosts;
    },
    expected: ['1.1.1.1', '1.1.1.2', '1.1.1.3'],
  },
  { name: 'version from arg', run: () => config(deploy(), { version: 'arg-version' }).version, expected: 'arg-version' },
  {
    name: 'version set later',
    run: () => {
      const c = config(deploy());
      c.version = 'arg-version';
      return c.version;
    },
    expected: 'arg-version',
  },
  { name: 'repository', run: () => config(deploy()).repository, expected: 'dhh/app' },
  {
    name: 'repository with server',
    run: () => config({ ...deploy(), registry: { username: 'dhh', password: 'secret', server: 'ghcr.io' } }).repository,
    expected: 'ghcr.io/dhh/app',
  },
  { name: 'absolute image', run: () => config(deploy()).absoluteImage, expected: 'dhh/app:missing' },
  {
    name: 'absolute image with server',
    run: () => config({ ...deploy(), registry: { username: 'dhh', password: 'secret', server: 'ghcr.io' } }).absoluteImage,
    expected: 'ghcr.io/dhh/app:missing',
  },
  { name: 'service with version', run: () => config(deploy()).serviceWithVersion, expected: 'app-missing' },
  { name: 'hosts required: empty implied web role', run: () => config({ ...deploy(), servers: [] }), error: 'No servers specified for the web primary_role' },
  {
    name: 'hosts required: empty server list',
    run: () => config({ ...deploy(), servers: { web: [] } }),
    error: 'No servers specified for the web primary_role',
  },
  {
    name: 'hosts required: missing hosts key',
    run: () => config({ ...deploy(), servers: { web: {} } }),
    error: 'No servers specified for the web primary_role',
  },
  {
    name: 'hosts required: empty hosts list',
    run: () => config({ ...deploy(), servers: { web: { hosts: [] } } }),
    error: 'No servers specified for the web primary_role',
  },
  {
    name: 'hosts required: nil hosts',
    run: () => config({ ...deploy(), servers: { web: { hosts: null } } }),
    error: 'servers/web/hosts: should be an array\nNo servers specified for the web primary_role',
  },
  {
    name: 'hosts required: one role without hosts',
    run: () => config({ ...deploy(), servers: { web: ['web'], workers: { hosts: [] } } }),
    error: 'No servers specified for the workers role. You can ignore this with allow_empty_roles: true',
  },
  {
    name: 'allow_empty_roles',
    run: () => config({ ...deploy(), servers: { web: ['web'], workers: { hosts: [] } }, allow_empty_roles: true }).roleNames,
    expected: ['web', 'workers'],
  },
  {
    name: 'allow_empty_roles still needs primary hosts',
    run: () => config({ ...deploy(), servers: { web: [], workers: { hosts: [] } }, allow_empty_roles: true }),
    error: 'No servers specified for the web primary_role',
  },
  { name: 'volume_args', run: () => args(config(deploy()).volumeArgs()), expected: '--volume /local/path:/container/path' },
  { name: 'logging args default', run: () => args(config(deploy()).loggingArgs()), expected: '--log-opt max-size="10m"' },
  {
    name: 'logging args with configured options',
    run: () => args(config({ ...deploy(), logging: { options: { 'max-size': '100m', 'max-file': 5 } } }).loggingArgs()),
    expected: '--log-opt max-size="100m" --log-opt max-file="5"',
  },
  {
    name: 'logging args with configured driver and options',
    run: () => args(config({ ...deploy(), logging: { driver: 'local', options: { 'max-size': '100m', 'max-file': 5 } } }).loggingArgs()),
    expected: '--log-driver "local" --log-opt max-size="100m" --log-opt max-file="5"',
  },
  {
    name: 'to_h',
    run: () => config(deploy()).toH(),
    expected: {
      roles: ['web'],
      hosts: ['1.1.1.1', '1.1.1.2'],
      primary_host: '1.1.1.1',
      version: 'missing',
      repository: 'dhh/app',
      absolute_image: 'dhh/app:missing',
      service_with_version: 'app-missing',
      volume_args: ['--volume', '/local/path:/container/path'],
      ssh_options: { user: 'root', port: 22, keepalive: true, keepaliveInterval: 30, logLevel: 'fatal' },
      sshkit: {},
      builder: { arch: 'amd64' },
    },
  },
  { name: 'min version is lower', run: () => config({ ...deploy(), minimum_version: '0.0.1' }).minimumVersion, expected: '0.0.1' },
  { name: 'min version is equal', run: () => config({ ...deploy(), minimum_version: KAMAL_VERSION }).minimumVersion, expected: KAMAL_VERSION },
  {
    name: 'min version is higher',
    run: () => config({ ...deploy(), minimum_version: '10000.0.0' }),
    error: `Current version is ${KAMAL_VERSION}, minimum required is 10000.0.0`,
  },
  { name: 'run directory', run: () => config(deploy()).runDirectory, expected: '.kamal' },
  { name: 'asset path (unset)', run: () => config(deploy()).assetPath, expected: undefined },
  { name: 'asset path', run: () => config({ ...deploy(), asset_path: 'foo' }).assetPath, expected: 'foo' },
  { name: 'primary role', run: () => config(deploy()).primaryRole?.name, expected: 'web' },
  ...(() => {
    const alternate = () => {
      const d = deployWithRoles();
      d.servers.alternate_web = { hosts: ['1.1.1.4', '1.1.1.5'] };
      d.primary_role = 'alternate_web';
      return config(d);
    };
    return [
      { name: 'primary role (alternate_web)', run: () => alternate().primaryRole?.name, expected: 'alternate_web' },
      { name: 'primary role host', run: () => alternate().primaryHost, expected: '1.1.1.4' },
      { name: 'primary role is primary', run: () => alternate().role('alternate_web')?.primary, expected: true },
      { name: 'primary role runs the proxy', run: () => alternate().role('alternate_web')?.runningProxy, expected: true },
    ];
  })(),
  { name: 'primary role missing', run: () => config({ ...deploy(), primary_role: 'bar' }), error: /bar isn't defined/ },
  { name: 'retain_containers default', run: () => config(deploy()).retainContainers, expected: 5 },
  { name: 'retain_containers', run: () => config({ ...deployWithRoles(), retain_containers: 2 }).retainContainers, expected: 2 },
  {
    name: 'retain_containers must be at least 1',
    run: () => config({ ...deployWithRoles(), retain_containers: 0 }),
    error: 'Must retain at least 1 container',
  },
  {
    name: 'extensions (x- keys) with proxied roles',
    run: () => {
      const c = config({
        ...deploy(),
        'x-web': { hosts: ['1.1.1.1'], proxy: { host: 'tokyo.example.com' } },
        servers: {
          web_tokyo: { hosts: ['1.1.1.1'], proxy: { host: 'tokyo.example.com' } },
          web_chicago: { hosts: ['1.1.1.2'], proxy: { host: 'chicago.example.com' } },
        },
        primary_role: 'web_tokyo',
      });
      return [c.role('web_tokyo')?.runningProxy, c.role('web_chicago')?.runningProxy];
    },
    expected: [true, true],
  },
  {
    name: 'traefik hooks raise error',
    run: () => config(deploy(), { fileExists: (p) => p === '.kamal/hooks/post-traefik-reboot' || p === '.kamal/hooks/pre-traefik-reboot' }),
    error: 'Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot',
  },
  {
    name: 'proxy ssl roles with multiple servers',
    run: () => {
      const d = deployWithRoles();
      d.servers.workers.proxy = { ssl: true, host: 'foo.example.com' };
      return config(d);
    },
    error: 'SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role workers',
  },
  {
    name: 'two proxy ssl roles with same host',
    run: () => {
      const d = deployWithRoles();
      d.servers.web = { hosts: ['1.1.1.1'], proxy: { ssl: true, host: 'foo.example.com' } };
      d.servers.workers = { hosts: ['1.1.1.1'], proxy: { ssl: true, host: 'foo.example.com' } };
      return config(d);
    },
    error: "Different roles can't share the same host for SSL: foo.example.com",
  },
  {
    name: 'two proxy ssl roles with same host in a hosts array',
    run: () => {
      const d = deployWithRoles();
      d.servers.web = { hosts: ['1.1.1.1'], proxy: { ssl: true, hosts: ['foo.example.com', 'bar.example.com'] } };
      d.servers.workers = { hosts: ['1.1.1.1'], proxy: { ssl: true, hosts: ['www.example.com', 'foo.example.com'] } };
      return config(d);
    },
    error: "Different roles can't share the same host for SSL: foo.example.com",
  },
  { name: 'hooks_output default is nil', run: () => config(deploy()).hooksOutputFor('pre-deploy'), expected: undefined },
  {
    name: 'hooks_output global setting',
    run: () => {
      const c = config({ ...deploy(), hooks_output: 'verbose' });
      return [c.hooksOutputFor('pre-deploy'), c.hooksOutputFor('post-deploy')];
    },
    expected: ['verbose', 'verbose'],
  },
  {
    name: 'hooks_output per-hook settings',
    run: () => {
      const c = config({ ...deploy(), hooks_output: { 'pre-deploy': 'verbose', 'post-deploy': 'quiet' } });
      return [c.hooksOutputFor('pre-deploy'), c.hooksOutputFor('post-deploy')];
    },
    expected: ['verbose', 'quiet'],
  },
  {
    name: 'hooks_output per-hook returns nil for unconfigured hooks',
    run: () => {
      const c = config({ ...deploy(), hooks_output: { 'pre-deploy': 'verbose' } });
      return [c.hooksOutputFor('pre-deploy'), c.hooksOutputFor('post-deploy')];
    },
    expected: ['verbose', undefined],
  },
  {
    name: 'hooks_output invalid raises error',
    run: () => config({ ...deploy(), hooks_output: 'invalid' }),
    error: "Invalid hooks_output 'invalid', must be one of: quiet, verbose",
  },
  {
    name: 'hooks_output invalid per-hook raises error',
    run: () => config({ ...deploy(), hooks_output: { 'pre-deploy': 'invalid' } }),
    error: "Invalid hooks_output 'invalid' for hook 'pre-deploy', must be one of: quiet, verbose",
  },
  // from test/configuration/validation_test.rb: the one cross-field rule Kamal checks outside the schema
  {
    name: 'local registry with remote builder requires ssh url',
    run: () =>
      config({ ...deploy(), registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'tcp://1.1.1.5:2375' } }, { localArch: 'amd64' }),
    error: 'Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)',
  },
  {
    name: 'local registry with remote builder and ssh url',
    run: () =>
      config({ ...deploy(), registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } }, { localArch: 'amd64' }).builder
        .remote,
    expected: 'ssh://app@1.1.1.5',
  },
  {
    name: 'destination required',
    run: () => config({ ...deploy(), require_destination: true }),
    error: 'You must specify a destination',
  },
  {
    name: 'destination given when required',
    run: () => config({ ...deploy(), require_destination: true }, { destination: 'world' }).destination,
    expected: 'world',
  },
  {
    name: 'conflicting proxy run configurations',
    run: () =>
      config({
        ...deploy(),
        servers: { web: ['1.1.1.1'], api: { hosts: ['1.1.1.1'], proxy: { host: 'api.example.com', run: { http_port: 8080 } } } },
        proxy: { host: 'example.com', run: { http_port: 80 } },
      }),
    error: 'Conflicting proxy run configurations for host 1.1.1.1',
  },
  {
    name: 'accessory with a proxy run config that conflicts with the app',
    run: () =>
      config({
        ...deploy(),
        proxy: { host: 'example.com', run: { log_max_size: '20m' } },
        accessories: { db: { image: 'mysql', host: '1.1.1.1', proxy: { host: 'db.example.com', run: { log_max_size: '30m' } } } },
      }),
    error: 'Conflicting proxy run configurations for host 1.1.1.1',
  },
  {
    name: 'accessory on unknown roles',
    run: () => config({ ...deploy(), accessories: { db: { image: 'mysql', roles: ['web', 'db', 'cache'] } } }),
    error: 'accessories/db: unknown roles db, cache',
  },
  {
    name: 'accessory on an unknown role',
    run: () => config({ ...deploy(), accessories: { db: { image: 'mysql', role: 'db' } } }),
    error: 'accessories/db: unknown role db',
  },
];

describe('Configuration', () => runModelCases(cases));
