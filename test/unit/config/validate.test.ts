// Bad configurations and the exact messages Kamal 2.12 gives for them.
//
// Most rows are ported from Kamal's test/configuration/validation_test.rb (each
// bad value is merged into the same valid config), the rest from
// test/configuration_test.rb, accessory_test.rb, role_test.rb, proxy_test.rb,
// builder_test.rb, output_test.rb and the rules in
// lib/kamal/configuration/validator/*.rb and configuration.rb.
//
// Kamal stops at the first problem; validateConfig reports every problem, in
// the order Kamal meets them. So in each row `issues[0]` is the message Kamal
// raises, and any further entries are the problems Kamal would raise once the
// first was fixed.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { formatIssue, KAMAL_VERSION, parseConfig, validateConfig, type ValidateOptions } from '../../../src/config/validate.js';
import { configError, validConfig, type Raw } from './helpers.js';

interface BadCase {
  name: string;
  /** Merged over validConfig() (top-level keys replace), unless `config` is given. */
  merge?: Raw;
  /** The whole configuration, when merging into the valid one does not fit. */
  config?: Raw;
  opts?: ValidateOptions;
  /** Every issue, formatted as `path: message`; the first is Kamal's error. */
  issues: string[];
}

const NOT_ROLE_HOSTS = 'No servers specified for the web primary_role';
const SPECIFY_ONE = 'specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`';
const RESERVED = 'invalid label. destination, role, and service are reserved labels';

/** Kamal's @deploy_with_roles from test/configuration_test.rb. */
const deployWithRoles = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  builder: { arch: 'amd64' },
  servers: { web: ['1.1.1.1', '1.1.1.2'], workers: { hosts: ['1.1.1.1', '1.1.1.3'] } },
});

const without = (key: string): Raw => {
  const c = validConfig();
  delete c[key];
  return c;
};

const ROOT_STRINGS = ['service', 'image', 'asset_path', 'hooks_path', 'secrets_path', 'primary_role', 'minimum_version', 'run_directory'];
const ROOT_BOOLEANS = ['require_destination', 'allow_empty_roles'];
const ROOT_INTEGERS = ['deploy_timeout', 'drain_timeout', 'retain_containers', 'readiness_delay'];
const ROOT_HASHES = ['labels', 'registry', 'accessories', 'env', 'ssh', 'sshkit', 'builder', 'proxy', 'boot', 'logging'];

/** The extra issues a wrong root type leads to once Kamal's later checks run. */
const ROOT_FOLLOW_UPS: Record<string, string[]> = {
  service: ['Missing required configuration for service'],
  registry: ['Missing required configuration for registry'],
};

const cases: BadCase[] = [
  // --- validation_test.rb: "unknown root key"
  { name: 'unknown root key', merge: { unknown: 'value' }, issues: ['unknown key: unknown'] },
  { name: 'unknown root keys', merge: { unknown: 'value', unknown2: 'value' }, issues: ['unknown keys: unknown, unknown2'] },

  // --- "wrong root types"
  ...ROOT_STRINGS.map((key) => ({
    name: `${key} given an array`,
    merge: { [key]: [] },
    issues: [`${key}: should be a string`, ...(ROOT_FOLLOW_UPS[key] ?? [])],
  })),
  ...ROOT_BOOLEANS.map((key) => ({ name: `${key} given a string`, merge: { [key]: 'foo' }, issues: [`${key}: should be a boolean`] })),
  ...ROOT_INTEGERS.map((key) => ({ name: `${key} given a string`, merge: { [key]: 'foo' }, issues: [`${key}: should be an integer`] })),
  { name: 'volumes given a string', merge: { volumes: 'foo' }, issues: ['volumes: should be an array'] },
  ...ROOT_HASHES.map((key) => ({
    name: `${key} given an array`,
    merge: { [key]: [] },
    issues: [`${key}: should be a hash`, ...(ROOT_FOLLOW_UPS[key] ?? [])],
  })),

  // --- "servers"
  { name: 'servers given a string', merge: { servers: 'foo' }, issues: ['servers: should be an array or a hash'] },
  { name: 'a server that is a list', merge: { servers: [[]] }, issues: ['servers/0: should be a string or a hash', NOT_ROLE_HOSTS] },
  { name: 'a server hash with two hosts', merge: { servers: [{ a: 'b', c: 'd' }] }, issues: ['servers/0: multiple hosts found'] },
  { name: 'server tags given a hash', merge: { servers: [{ foo: {} }] }, issues: ['servers/0/foo: should be a string or an array'] },
  { name: 'a server tag that is a list', merge: { servers: [{ foo: [[]] }] }, issues: ['servers/0/foo/0: should be a string'] },

  // --- "roles"
  { name: 'role given a string', merge: { servers: { web: 'foo' } }, issues: ['servers/web: should be an array or a hash', NOT_ROLE_HOSTS] },
  { name: 'role hosts given a string', merge: { servers: { web: { hosts: '' } } }, issues: ['servers/web/hosts: should be an array'] },
  {
    name: 'a role host that is a list',
    merge: { servers: { web: { hosts: [[]] } } },
    issues: ['servers/web/hosts/0: should be a string or a hash', NOT_ROLE_HOSTS],
  },
  { name: 'role options given a string', merge: { servers: { web: { options: '' } } }, issues: ['servers/web/options: should be a hash', NOT_ROLE_HOSTS] },
  {
    name: 'role logging options given a string',
    merge: { servers: { web: { logging: { options: '' } } } },
    issues: ['servers/web/logging/options: should be a hash', NOT_ROLE_HOSTS],
  },
  {
    name: 'role logging driver given an array',
    merge: { servers: { web: { logging: { driver: [] } } } },
    issues: ['servers/web/logging/driver: should be a string', NOT_ROLE_HOSTS],
  },
  {
    name: 'reserved role label',
    merge: { servers: { web: { labels: { service: 'foo' } } } },
    issues: [`servers/web/labels/service: ${RESERVED}`, NOT_ROLE_HOSTS],
  },
  { name: 'role labels given an array', merge: { servers: { web: { labels: [] } } }, issues: ['servers/web/labels: should be a hash', NOT_ROLE_HOSTS] },
  { name: 'role env given an array', merge: { servers: { web: { env: [] } } }, issues: ['servers/web/env: should be a hash', NOT_ROLE_HOSTS] },
  {
    name: 'tags in a role env',
    merge: { servers: { web: { hosts: ['1.1.1.1'], env: { tags: {} } } } },
    issues: ['servers/web/env: tags are only allowed in the root env'],
  },
  { name: 'unknown role key', merge: { servers: { web: { hosts: ['1.1.1.1'], foo: 1 } } }, issues: ['servers/web: unknown key: foo'] },
  { name: 'role proxy given a string', merge: { servers: { web: { hosts: ['1.1.1.1'], proxy: 'yes' } } }, issues: ['servers/web/proxy: should be a hash'] },
  {
    name: 'boolean restart policy (role_test.rb)',
    config: { ...deployWithRoles(), servers: { web: ['1.1.1.1'], workers: { hosts: ['1.1.1.3'], options: { restart: false } } } },
    issues: ['servers/workers/options/restart: should be a string. Use "no" to disable restarts'],
  },
  {
    name: 'unknown restart policy',
    merge: { servers: { web: { hosts: ['1.1.1.1'], options: { restart: 'sometimes' } } } },
    issues: ['servers/web/options/restart: should be no, always, unless-stopped, on-failure, or on-failure:N'],
  },

  // --- "registry"
  {
    name: 'registry without username',
    merge: { registry: {} },
    issues: ['registry/username: is required', 'registry/password: is required', 'Missing required configuration for registry'],
  },
  { name: 'registry without password', merge: { registry: { username: 'foo' } }, issues: ['registry/password: is required'] },
  {
    name: 'registry password with two secrets',
    merge: { registry: { username: 'foo', password: ['SECRET1', 'SECRET2'] } },
    issues: ['registry/password: should be a string or an array with one string (for secret lookup)'],
  },
  {
    name: 'registry server given an array',
    merge: { registry: { username: 'foo', password: 'bar', server: [] } },
    issues: ['registry/server: should be a string'],
  },
  { name: 'unknown registry key', merge: { registry: { username: 'foo', password: 'bar', port: 5000 } }, issues: ['registry: unknown key: port'] },

  // --- "accessories"
  { name: 'accessory given an array', merge: { accessories: { accessory1: [] } }, issues: ['accessories/accessory1: should be a hash'] },
  {
    name: 'unknown accessory key',
    merge: { accessories: { accessory1: { unknown: 'baz' } } },
    issues: ['accessories/accessory1: unknown key: unknown', `accessories/accessory1: ${SPECIFY_ONE}`],
  },
  {
    name: 'accessory options given an array',
    merge: { accessories: { accessory1: { options: [] } } },
    issues: ['accessories/accessory1/options: should be a hash', `accessories/accessory1: ${SPECIFY_ONE}`],
  },
  {
    name: 'reserved accessory label',
    merge: { accessories: { accessory1: { host: 'host', labels: { destination: 'foo' } } } },
    issues: [`accessories/accessory1/labels/destination: ${RESERVED}`],
  },
  { name: 'accessory host given an array', merge: { accessories: { accessory1: { host: [] } } }, issues: ['accessories/accessory1/host: should be a string'] },
  {
    name: 'accessory env given an array',
    merge: { accessories: { accessory1: { env: [] } } },
    issues: ['accessories/accessory1/env: should be a hash', `accessories/accessory1: ${SPECIFY_ONE}`],
  },
  {
    name: 'tags in an accessory env',
    merge: { accessories: { accessory1: { host: 'host', env: { tags: {} } } } },
    issues: ['accessories/accessory1/env: tags are only allowed in the root env'],
  },
  {
    name: 'accessory with host, hosts and roles (accessory_test.rb)',
    merge: { accessories: { mysql: { image: 'mysql', host: '1.1.1.5', hosts: ['mysql-db1'], roles: ['db'] } } },
    issues: [`accessories/mysql: ${SPECIFY_ONE}`, 'accessories/mysql: unknown roles db'],
  },
  { name: 'accessory without a host', merge: { accessories: { mysql: { image: 'mysql' } } }, issues: [`accessories/mysql: ${SPECIFY_ONE}`] },
  {
    name: 'boolean accessory restart policy (accessory_test.rb)',
    merge: { accessories: { mysql: { image: 'mysql', host: '1.1.1.5', options: { restart: false } } } },
    issues: ['accessories/mysql/options/restart: should be a string. Use "no" to disable restarts'],
  },
  { name: 'accessory on an unknown role', merge: { accessories: { mysql: { image: 'mysql', role: 'db' } } }, issues: ['accessories/mysql: unknown role db'] },
  {
    name: 'accessory on unknown roles',
    merge: { accessories: { mysql: { image: 'mysql', roles: ['db', 'web', 'cache'] } } },
    issues: ['accessories/mysql: unknown roles db, cache'],
  },
  { name: 'accessory proxy given true', merge: { accessories: { mysql: { host: 'h', proxy: true } } }, issues: ['accessories/mysql/proxy: should be a hash'] },
  {
    name: 'accessory file given a number',
    merge: { accessories: { mysql: { host: 'h', files: [{ local: 'a', remote: 'b', mode: [] }] } } },
    issues: ['accessories/mysql/files/0/mode: should be a string'],
  },

  // --- "env"
  { name: 'env given an array', merge: { env: [] }, issues: ['env: should be a hash'] },
  { name: 'env value given an array', merge: { env: { FOO: [] } }, issues: ['env/FOO: should be a string'] },
  { name: 'clear env value given an array', merge: { env: { clear: { FOO: [] } } }, issues: ['env/clear/FOO: should be a string'] },
  { name: 'secret env given a hash', merge: { env: { secret: { FOO: [] } } }, issues: ['env/secret: should be an array'] },
  { name: 'secret env entry given an array', merge: { env: { secret: [[]] } }, issues: ['env/secret/0: should be a string'] },
  { name: 'env tags given an array', merge: { env: { tags: [] } }, issues: ['env/tags: should be a hash'] },
  { name: 'env tag given a string', merge: { env: { tags: { tag1: 'foo' } } }, issues: ['env/tags/tag1: should be a hash'] },
  { name: 'env tag value given an array', merge: { env: { tags: { tag1: { FOO: [] } } } }, issues: ['env/tags/tag1/FOO: should be a string'] },
  {
    name: 'env tag clear value given an array',
    merge: { env: { tags: { tag1: { clear: { FOO: [] } } } } },
    issues: ['env/tags/tag1/clear/FOO: should be a string'],
  },
  { name: 'env tag secret given a hash', merge: { env: { tags: { tag1: { secret: {} } } } }, issues: ['env/tags/tag1/secret: should be an array'] },
  { name: 'env tag secret entry given an array', merge: { env: { tags: { tag1: { secret: [[]] } } } }, issues: ['env/tags/tag1/secret/0: should be a string'] },
  { name: 'tags inside an env tag', merge: { env: { tags: { tag1: { tags: {} } } } }, issues: ['env/tags/tag1: tags are only allowed in the root env'] },
  { name: 'clear env beside a plain variable', merge: { env: { clear: { A: 'b' }, FOO: 'bar' } }, issues: ['env: unknown key: FOO'] },

  // --- "ssh"
  { name: 'unknown ssh key', merge: { ssh: { foo: 'bar' } }, issues: ['ssh: unknown key: foo'] },
  { name: 'ssh user given an array', merge: { ssh: { user: [] } }, issues: ['ssh/user: should be a string'] },
  { name: 'ssh config given a number', merge: { ssh: { config: 1 } }, issues: ['ssh/config: should be a boolean or a string or an array'] },
  { name: 'ssh keys given a string', merge: { ssh: { keys: '~/.ssh/id' } }, issues: ['ssh/keys: should be an array'] },
  { name: 'ssh keys_only given a string', merge: { ssh: { keys_only: 'yes' } }, issues: ['ssh/keys_only: should be a boolean'] },

  // --- "sshkit"
  { name: 'unknown sshkit key', merge: { sshkit: { foo: 'bar' } }, issues: ['sshkit: unknown key: foo'] },
  {
    name: 'sshkit max_concurrent_starts given a string',
    merge: { sshkit: { max_concurrent_starts: 'foo' } },
    issues: ['sshkit/max_concurrent_starts: should be an integer'],
  },
  { name: 'sshkit dns_retries given a string', merge: { sshkit: { dns_retries: 'foo' } }, issues: ['sshkit/dns_retries: should be an integer'] },

  // --- "builder"
  { name: 'unknown builder key', merge: { builder: { foo: 'bar' } }, issues: ['builder: unknown key: foo', 'builder: Builder arch not set'] },
  {
    name: 'builder remote given a hash',
    merge: { builder: { remote: { foo: 'bar' } } },
    issues: ['builder/remote: should be a string', 'builder: Builder arch not set'],
  },
  {
    name: 'builder arch given a hash',
    merge: { builder: { arch: {} } },
    issues: ['builder/arch: should be an array or a string', 'builder: Builder arch not set'],
  },
  { name: 'builder args given an array', merge: { builder: { args: ['foo'] } }, issues: ['builder/args: should be a hash', 'builder: Builder arch not set'] },
  {
    name: 'builder cache options given an array',
    merge: { builder: { cache: { options: [] } } },
    issues: ['builder/cache/options: should be a string', 'builder: Builder arch not set'],
  },
  {
    name: 'buildpacks for two arches',
    merge: { builder: { arch: ['amd64', 'arm64'], pack: { builder: 'heroku/builder:24' } } },
    issues: ['builder: buildpacks only support building for one arch'],
  },
  {
    name: 'invalid cache type (builder_test.rb)',
    merge: { builder: { arch: 'amd64', cache: { type: 'invalid' } } },
    issues: ['builder: Invalid cache type: invalid'],
  },
  {
    name: 'local disabled without a remote (builder_test.rb)',
    merge: { builder: { arch: 'amd64', local: false } },
    issues: ['builder: Cannot disable local builds, no remote is set'],
  },
  { name: 'builder without arch', merge: { builder: {} }, issues: ['builder: Builder arch not set'] },
  { name: 'no builder at all', config: without('builder'), issues: ['builder: Builder arch not set'] },
  {
    name: 'local registry with a remote builder that is not ssh',
    merge: { registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'docker-container://remote-builder' } },
    opts: { localArch: 'amd64' },
    issues: ['Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)'],
  },

  // --- proxy (proxy_test.rb, configuration_test.rb, validator/proxy.rb)
  { name: 'proxy ssl with no host', merge: { proxy: { ssl: true } }, issues: ['proxy: Must set a host to enable automatic SSL'] },
  {
    name: 'proxy ssl with both host and hosts',
    merge: { proxy: { ssl: true, host: 'example.com', hosts: ['anotherexample.com'] } },
    issues: ["proxy: Specify one of 'host' or 'hosts', not both"],
  },
  { name: 'proxy false', merge: { proxy: false }, issues: ['proxy: should be a hash'] },
  {
    name: 'proxy certificate without private key',
    merge: { proxy: { host: 'example.com', ssl: { certificate_pem: 'CERT_PEM' } } },
    issues: ['proxy: Missing private_key_pem setting (required when certificate_pem is present)'],
  },
  {
    name: 'proxy private key without certificate',
    merge: { proxy: { host: 'example.com', ssl: { private_key_pem: 'KEY_PEM' } } },
    issues: ['proxy: Missing certificate_pem setting (required when private_key_pem is present)'],
  },
  {
    name: 'proxy ssl given a string',
    merge: { proxy: { ssl: 'yes' } },
    issues: ['proxy/ssl: should be a boolean or a hash', 'proxy: Must set a host to enable automatic SSL'],
  },
  { name: 'proxy app_port given a string', merge: { proxy: { app_port: '3000' } }, issues: ['proxy/app_port: should be an integer'] },
  { name: 'unknown proxy key', merge: { proxy: { foo: 1 } }, issues: ['proxy: unknown key: foo'] },
  { name: 'proxy hosts given a string', merge: { proxy: { hosts: 'a.example.com' } }, issues: ['proxy/hosts: should be an array'] },
  {
    name: 'proxy healthcheck interval given a string',
    merge: { proxy: { healthcheck: { interval: '3s' } } },
    issues: ['proxy/healthcheck/interval: should be an integer'],
  },
  { name: 'unknown proxy run key', merge: { proxy: { run: { bogus: 1 } } }, issues: ['proxy/run: unknown key: bogus'] },
  {
    name: 'proxy ports without publishing',
    merge: { proxy: { run: { publish: false, http_port: 81 } } },
    issues: ['proxy: Cannot set http_port, https_port or bind_ips when publish is false'],
  },
  {
    name: 'role proxy ssl with no host (configuration_test.rb)',
    config: { ...deployWithRoles(), servers: { web: ['1.1.1.1', '1.1.1.2'], workers: { hosts: ['1.1.1.1', '1.1.1.3'], proxy: { ssl: true } } } },
    issues: ['servers/workers/proxy: Must set a host to enable automatic SSL'],
  },
  {
    name: 'role proxy ssl on two servers (configuration_test.rb)',
    config: {
      ...deployWithRoles(),
      servers: { web: ['1.1.1.1', '1.1.1.2'], workers: { hosts: ['1.1.1.1', '1.1.1.3'], proxy: { ssl: true, host: 'foo.example.com' } } },
    },
    issues: ['SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role workers'],
  },
  {
    name: 'two ssl roles with the same host (configuration_test.rb)',
    config: {
      ...deployWithRoles(),
      servers: {
        web: { hosts: ['1.1.1.1'], proxy: { ssl: true, host: 'foo.example.com' } },
        workers: { hosts: ['1.1.1.1'], proxy: { ssl: true, host: 'foo.example.com' } },
      },
    },
    issues: ["Different roles can't share the same host for SSL: foo.example.com"],
  },
  {
    name: 'two ssl roles sharing a host in hosts arrays (configuration_test.rb)',
    config: {
      ...deployWithRoles(),
      servers: {
        web: { hosts: ['1.1.1.1'], proxy: { ssl: true, hosts: ['foo.example.com', 'bar.example.com'] } },
        workers: { hosts: ['1.1.1.1'], proxy: { ssl: true, hosts: ['www.example.com', 'foo.example.com'] } },
      },
    },
    issues: ["Different roles can't share the same host for SSL: foo.example.com"],
  },
  {
    name: 'conflicting proxy run configurations',
    config: {
      ...deployWithRoles(),
      servers: { web: { hosts: ['1.1.1.1'], proxy: { run: { http_port: 8080 } } }, workers: { hosts: ['1.1.1.1'], proxy: { run: { http_port: 9090 } } } },
    },
    issues: ['Conflicting proxy run configurations for host 1.1.1.1'],
  },

  // --- boot
  { name: 'boot limit given an array', merge: { boot: { limit: [] } }, issues: ['boot/limit: should be a string'] },
  { name: 'boot wait given a string', merge: { boot: { wait: '10s' } }, issues: ['boot/wait: should be an integer'] },
  { name: 'boot parallel_roles given a string', merge: { boot: { parallel_roles: 'yes' } }, issues: ['boot/parallel_roles: should be a boolean'] },
  { name: 'unknown boot key', merge: { boot: { foo: 1 } }, issues: ['boot: unknown key: foo'] },

  // --- logging, labels, volumes, aliases, output, hooks_output
  { name: 'logging driver given an array', merge: { logging: { driver: [] } }, issues: ['logging/driver: should be a string'] },
  { name: 'unknown logging key', merge: { logging: { foo: 1 } }, issues: ['logging: unknown key: foo'] },
  { name: 'label value given an array', merge: { labels: { a: [] } }, issues: ['labels/a: should be a string'] },
  { name: 'a volume that is a list', merge: { volumes: ['/a:/b', []] }, issues: ['volumes/1: should be a string'] },
  {
    name: 'alias name with capitals',
    merge: { aliases: { Bad: 'deploy' } },
    issues: ["aliases/Bad: Invalid alias name: 'Bad'. Must only contain lowercase letters, alphanumeric, hyphens and underscores."],
  },
  {
    name: 'alias named after a command',
    merge: { aliases: { deploy: 'deploy -d x' } },
    issues: ["aliases/deploy: Alias 'deploy' conflicts with a built-in command."],
  },
  { name: 'aliases given an array', merge: { aliases: [] }, issues: ['aliases: should be a hash'] },
  { name: 'otel output without endpoint (output_test.rb)', merge: { output: { otel: {} } }, issues: ['OTel endpoint is required'] },
  { name: 'file output without path (output_test.rb)', merge: { output: { file: {} } }, issues: ['file path is required'] },
  { name: 'invalid hooks_output', merge: { hooks_output: 'invalid' }, issues: ["Invalid hooks_output 'invalid', must be one of: quiet, verbose"] },
  {
    name: 'invalid per-hook hooks_output',
    merge: { hooks_output: { 'pre-deploy': 'invalid' } },
    issues: ["Invalid hooks_output 'invalid' for hook 'pre-deploy', must be one of: quiet, verbose"],
  },
  { name: 'hooks_output given an array', merge: { hooks_output: [] }, issues: ['hooks_output: should be a string or a symbol'] },

  // --- configuration.rb: required keys and ensure_* checks
  { name: 'service required', config: without('service'), issues: ['Missing required configuration for service'] },
  { name: 'image required', config: without('image'), issues: ['Missing required configuration for image'] },
  {
    name: 'registry required',
    config: without('registry'),
    issues: ['registry/username: is required', 'registry/password: is required', 'Missing required configuration for registry'],
  },
  { name: 'servers required', config: without('servers'), issues: ['No servers or accessories specified'] },
  { name: 'empty server list', merge: { servers: [] }, issues: [NOT_ROLE_HOSTS] },
  { name: 'empty web role', merge: { servers: { web: [] } }, issues: [NOT_ROLE_HOSTS] },
  { name: 'web role without hosts key', merge: { servers: { web: {} } }, issues: [NOT_ROLE_HOSTS] },
  { name: 'web role with empty hosts', merge: { servers: { web: { hosts: [] } } }, issues: [NOT_ROLE_HOSTS] },
  { name: 'web role with nil hosts', merge: { servers: { web: { hosts: null } } }, issues: ['servers/web/hosts: should be an array', NOT_ROLE_HOSTS] },
  {
    name: 'one role with hosts, one without',
    merge: { servers: { web: ['web'], workers: { hosts: [] } } },
    issues: ['No servers specified for the workers role. You can ignore this with allow_empty_roles: true'],
  },
  {
    name: 'allow_empty_roles still needs the primary role',
    merge: { servers: { web: [], workers: { hosts: [] } }, allow_empty_roles: true },
    issues: [NOT_ROLE_HOSTS],
  },
  { name: 'primary role missing', merge: { primary_role: 'bar' }, issues: ["The primary_role bar isn't defined"] },
  { name: 'primary role empty (a name, as Ruby reads it, not web)', merge: { primary_role: '' }, issues: ["The primary_role  isn't defined"] },
  { name: 'min version is higher', merge: { minimum_version: '10000.0.0' }, issues: [`Current version is ${KAMAL_VERSION}, minimum required is 10000.0.0`] },
  { name: 'retain_containers below one', merge: { retain_containers: 0 }, issues: ['Must retain at least 1 container'] },
  {
    name: 'service name with a dot',
    merge: { service: 'app.com' },
    issues: ['Service name can only include alphanumeric characters, hyphens, and underscores'],
  },
  {
    name: 'traefik hooks (configuration_test.rb)',
    config: validConfig(),
    opts: { fileExists: (p) => p === '.kamal/hooks/pre-traefik-reboot' || p === '.kamal/hooks/post-traefik-reboot' },
    issues: ['Found pre-traefik-reboot, post-traefik-reboot, these should be renamed to (pre|post)-proxy-reboot'],
  },
  {
    name: 'require_destination without a destination',
    merge: { require_destination: true },
    opts: { destination: null },
    issues: ['You must specify a destination'],
  },

  // --- everything at once, in Kamal's order
  {
    name: 'all issues are collected',
    config: {
      service: 'my.app',
      image: [],
      servers: { web: { hosts: 'x' }, workers: { hosts: [] } },
      registry: { username: 'u' },
      builder: { arch: 'amd64', cache: { type: 'nope' } },
      proxy: { ssl: true },
      boot: { wait: 'soon' },
      volumes: 'a:b',
      unknown: 1,
    },
    issues: [
      'unknown key: unknown',
      'image: should be a string',
      'volumes: should be an array',
      'servers/web/hosts: should be an array',
      'registry/password: is required',
      // Kamal builds Boot before Builder, Env, Logging, Output and Proxy
      'boot/wait: should be an integer',
      'builder: Invalid cache type: nope',
      'proxy: Must set a host to enable automatic SSL',
      'No servers specified for the workers role. You can ignore this with allow_empty_roles: true',
      'Service name can only include alphanumeric characters, hyphens, and underscores',
    ],
  },
];

describe('validateConfig: bad configurations (Kamal messages)', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const raw = c.config ?? { ...validConfig(), ...c.merge };
    const issues = validateConfig(raw, { localArch: 'amd64', ...c.opts });
    expect(issues.map(formatIssue)).toEqual(c.issues);
    // parseConfig throws one ConfigError carrying every issue
    const error = configError(() => parseConfig(raw, { localArch: 'amd64', ...c.opts }));
    expect(error.message).toBe(c.issues.join('\n'));
    expect(error.issues).toEqual(issues);
  });
});

describe('validateConfig: issue paths and shapes', () => {
  it('splits an issue into its Kamal key path and message', () => {
    expect(validateConfig({ ...validConfig(), servers: { web: { hosts: 'x' } } })).toEqual([{ path: 'servers/web/hosts', message: 'should be an array' }]);
  });

  it('gives root-level checks an empty path', () => {
    expect(validateConfig({ ...validConfig(), retain_containers: 0 })).toEqual([{ path: '', message: 'Must retain at least 1 container' }]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a list', []],
    ['a string', 'service: app'],
    ['false (an empty YAML document)', false],
  ])('refuses a root that is %s', (_n, raw) => {
    expect(validateConfig(raw)).toEqual([{ path: '', message: 'should be a hash' }]);
  });

  it('formats issues the way ConfigError joins them', () => {
    const e = new ConfigError([
      { path: 'servers/web/hosts', message: 'should be an array' },
      { path: '', message: 'Missing required configuration for service' },
    ]);
    expect(e.message).toBe('servers/web/hosts: should be an array\nMissing required configuration for service');
  });

  it('does not crash on null-prototype hashes where strings are expected', () => {
    const bare = Object.create(null) as Raw;
    expect(validateConfig({ ...validConfig(), servers: [{ '1.1.1.1': [bare] }] }).map(formatIssue)).toEqual(['servers/0/1.1.1.1/0: should be a string']);
    expect(validateConfig({ ...validConfig(), accessories: { db: { roles: [bare] } } }).map(formatIssue)).toEqual([
      'accessories/db/roles/0: should be a string',
      'accessories/db: unknown roles [object Object]',
    ]);
  });

  it('without the destination option, require_destination is not checked', () => {
    expect(validateConfig({ ...validConfig(), require_destination: true })).toEqual([]);
  });

  it('with a destination, require_destination is satisfied', () => {
    expect(validateConfig({ ...validConfig(), require_destination: true }, { destination: 'world' })).toEqual([]);
  });
});

describe('validateConfig: valid configurations', () => {
  it.each<[string, Raw]>([
    ['the base config', validConfig()],
    ['x- extension keys at the root', { ...validConfig(), 'x-web': { anything: [1, 2] }, 'x-other': 'text' }],
    ['numbers and booleans where strings are expected', { ...validConfig(), service: 'app', env: { PORT: 3000, DEBUG: true }, labels: { n: 1 } }],
    ['tagged hosts', { ...validConfig(), servers: ['1.1.1.1', { '1.1.1.2': 'tag' }, { '1.1.1.3': ['a', 'b'] }] }],
    ['a local registry without credentials and no image', { ...validConfig(), registry: { server: 'localhost:5000' }, image: undefined }],
    [
      'a local registry with an ssh remote builder',
      { ...validConfig(), registry: { server: 'localhost:5000' }, builder: { arch: 'arm64', remote: 'ssh://user@host' } },
    ],
    ['accessories instead of servers', { ...validConfig(), servers: undefined, accessories: { db: { image: 'mysql', host: '1.1.1.5' } } }],
    ['allow_empty_roles with an empty workers role', { ...validConfig(), servers: { web: ['web'], workers: { hosts: [] } }, allow_empty_roles: true }],
    ['min version lower', { ...validConfig(), minimum_version: '0.0.1' }],
    ['min version equal', { ...validConfig(), minimum_version: KAMAL_VERSION }],
    ['hooks_output levels', { ...validConfig(), hooks_output: { 'pre-deploy': 'verbose', 'post-deploy': 'quiet' } }],
    [
      'ssl with a custom certificate on two servers',
      { ...validConfig(), servers: ['1.1.1.1', '1.1.1.2'], proxy: { host: 'a.example.com', ssl: { certificate_pem: 'C', private_key_pem: 'K' } } },
    ],
    ['proxy: false on a non-primary role', { ...deployWithRoles(), servers: { web: ['1.1.1.1'], workers: { hosts: ['1.1.1.3'], proxy: false } } }],
    ['the restart policy on-failure:5', { ...validConfig(), servers: { web: { hosts: ['1.1.1.1'], options: { restart: 'on-failure:5' } } } }],
    ['ssh config as a string', { ...validConfig(), ssh: { config: '~/.ssh/config' } }],
    ['ssh config as a boolean', { ...validConfig(), ssh: { config: false } }],
    ['ssh config as a list', { ...validConfig(), ssh: { config: ['~/.ssh/a', '~/.ssh/b'] } }],
  ])('%s', (_n, raw) => {
    const clean = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    expect(validateConfig(clean, { localArch: 'amd64' }).map(formatIssue)).toEqual([]);
  });

  it('parseConfig returns strings for scalars under string keys and drops x- keys', () => {
    const parsed = parseConfig({ ...validConfig(), 'x-anchor': { a: 1 }, env: { PORT: 3000, ON: true }, labels: { n: 1.5 } }) as any;
    expect(parsed['x-anchor']).toBeUndefined();
    expect(parsed.env).toEqual({ PORT: '3000', ON: 'true' });
    expect(parsed.labels).toEqual({ n: '1.5' });
  });
});
