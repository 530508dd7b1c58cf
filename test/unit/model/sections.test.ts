// Ported from Kamal's test/configuration/{boot,builder,env,env/tags,proxy,proxy/boot,proxy/run,ssh,sshkit,volume}_test.rb
// (v2.12.0). Schema checks (unknown cache type, arch missing, ssl without host, host+hosts) belong to the loader.
import { describe } from 'vitest';
import { Env, EnvFile, ProxyRun, Volume } from '../../../src/model/index.js';
import { MapSecretStore, Secret } from '../../../src/secret.js';
import { args, config, plain, runModelCases, type ModelCase, type Raw } from './helpers.js';

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  builder: { arch: 'amd64' },
  servers: ['1.1.1.1'],
});

// --- boot ---
const withBoot = (boot?: Raw) =>
  config({ ...base(), servers: { web: ['1.1.1.1', '1.1.1.2'], workers: ['1.1.1.3', '1.1.1.4'] }, ...(boot ? { boot } : {}) }).boot;

const bootCases: ModelCase[] = [
  { name: 'no boot config', run: () => [withBoot().limit, withBoot().wait, withBoot().parallelRoles], expected: [undefined, undefined, undefined] },
  { name: 'specific limit group strategy', run: () => [withBoot({ limit: 3, wait: 2 }).limit, withBoot({ limit: 3, wait: 2 }).wait], expected: [3, 2] },
  {
    name: 'percentage-based group strategy',
    run: () => [withBoot({ limit: '50%', wait: 2 }).limit, withBoot({ limit: '50%', wait: 2 }).wait],
    expected: [2, 2],
  },
  { name: 'percentage-based group strategy limit is at least 1', run: () => withBoot({ limit: '1%', wait: 2 }).limit, expected: 1 },
  { name: 'parallel_roles', run: () => withBoot({ parallel_roles: true }).parallelRoles, expected: true },
];

// --- builder ---
const builder = (b: Raw, extra: Raw = {}, secretValues?: Record<string, string>) =>
  config({ ...base(), ...extra, builder: b }, { secretValues, localArch: 'amd64' }).builder;

const builderCases: ModelCase[] = [
  { name: 'local?', run: () => builder({ arch: 'amd64' }).isLocal, expected: true },
  { name: 'remote?', run: () => builder({ arch: 'amd64' }).isRemote, expected: false },
  { name: 'pack?', run: () => builder({ arch: 'amd64' }).isPack, expected: false },
  { name: 'pack? with pack builder', run: () => builder({ arch: 'arm64', pack: { builder: 'heroku/builder:24' } }).isPack, expected: true },
  {
    name: 'pack details',
    run: () => {
      const b = builder({ arch: 'amd64', pack: { builder: 'heroku/builder:24', buildpacks: ['heroku/ruby', 'heroku/procfile'] } });
      return [b.packBuilder, b.packBuildpacks];
    },
    expected: ['heroku/builder:24', ['heroku/ruby', 'heroku/procfile']],
  },
  { name: 'remote', run: () => builder({ arch: 'amd64' }).remote, expected: undefined },
  {
    name: 'setting both local and remote configs',
    run: () => {
      const b = builder({ arch: ['amd64', 'arm64'], remote: 'ssh://root@192.168.0.1' });
      return [b.isLocal, b.isRemote, b.arches, b.remote];
    },
    expected: [true, true, ['amd64', 'arm64'], 'ssh://root@192.168.0.1'],
  },
  { name: 'cached?', run: () => builder({ arch: 'amd64' }).isCached, expected: false },
  { name: 'cache_from', run: () => builder({ arch: 'amd64' }).cacheFrom, expected: undefined },
  { name: 'cache_to', run: () => builder({ arch: 'amd64' }).cacheTo, expected: undefined },
  {
    name: 'setting gha cache',
    run: () => {
      const b = builder({ arch: 'amd64', cache: { type: 'gha', options: 'mode=max,scope=test' } });
      return [b.cacheFrom, b.cacheTo];
    },
    expected: ['type=gha,scope=test', 'type=gha,mode=max,scope=test'],
  },
  {
    name: 'setting registry cache',
    run: () => {
      const b = builder({ arch: 'amd64', cache: { type: 'registry', options: 'mode=max,image-manifest=true,oci-mediatypes=true' } });
      return [b.cacheFrom, b.cacheTo];
    },
    expected: ['type=registry,ref=dhh/app-build-cache', 'type=registry,ref=dhh/app-build-cache,mode=max,image-manifest=true,oci-mediatypes=true'],
  },
  {
    name: 'setting registry cache when using a custom registry',
    run: () => {
      const b = builder(
        { arch: 'amd64', cache: { type: 'registry', options: 'mode=max,image-manifest=true,oci-mediatypes=true' } },
        { registry: { username: 'dhh', password: 'secret', server: 'registry.example.com' } },
      );
      return [b.cacheFrom, b.cacheTo];
    },
    expected: [
      'type=registry,ref=registry.example.com/dhh/app-build-cache',
      'type=registry,ref=registry.example.com/dhh/app-build-cache,mode=max,image-manifest=true,oci-mediatypes=true',
    ],
  },
  {
    name: 'setting registry cache with image',
    run: () => {
      const b = builder({ arch: 'amd64', cache: { type: 'registry', image: 'kamal', options: 'mode=max' } });
      return [b.cacheFrom, b.cacheTo];
    },
    expected: ['type=registry,ref=kamal', 'type=registry,ref=kamal,mode=max'],
  },
  { name: 'args', run: () => builder({ arch: 'amd64' }).args, expected: {} },
  { name: 'setting args', run: () => builder({ arch: 'amd64', args: { key: 'value' } }).args, expected: { key: 'value' } },
  { name: 'secrets', run: () => plain(builder({ arch: 'amd64' }).secrets), expected: {} },
  {
    name: 'setting secrets',
    run: () => [...builder({ arch: 'amd64', secrets: ['GITHUB_TOKEN'] }, {}, { GITHUB_TOKEN: 'secret123' }).secrets].map(([k, v]) => [k, v.reveal()]),
    expected: [['GITHUB_TOKEN', 'secret123']],
  },
  { name: 'dockerfile', run: () => builder({ arch: 'amd64' }).dockerfile, expected: 'Dockerfile' },
  { name: 'setting dockerfile', run: () => builder({ arch: 'amd64', dockerfile: 'Dockerfile.dev' }).dockerfile, expected: 'Dockerfile.dev' },
  { name: 'context', run: () => builder({ arch: 'amd64' }).context, expected: '.' },
  { name: 'setting context', run: () => builder({ arch: 'amd64', context: '..' }).context, expected: '..' },
  { name: 'ssh', run: () => builder({ arch: 'amd64' }).ssh, expected: undefined },
  { name: 'setting ssh params', run: () => builder({ arch: 'amd64', ssh: 'default=$SSH_AUTH_SOCK' }).ssh, expected: 'default=$SSH_AUTH_SOCK' },
  { name: 'provenance', run: () => builder({ arch: 'amd64' }).provenance, expected: undefined },
  { name: 'setting provenance', run: () => builder({ arch: 'amd64', provenance: 'mode=max' }).provenance, expected: 'mode=max' },
  { name: 'sbom', run: () => builder({ arch: 'amd64' }).sbom, expected: undefined },
  { name: 'setting sbom', run: () => builder({ arch: 'amd64', sbom: true }).sbom, expected: true },
  {
    name: 'local disabled all arches are remote',
    run: () => {
      const b = builder({ arch: ['amd64', 'arm64'], local: false, remote: 'ssh://root@192.168.0.1' });
      return [b.localArches, b.remoteArches];
    },
    expected: [[], ['amd64', 'arm64']],
  },
  // beyond Kamal's tests
  {
    name: 'remote arch is built remotely, local arch locally',
    run: () => {
      const b = builder({ arch: ['amd64', 'arm64'], remote: 'ssh://root@192.168.0.1' });
      return [b.localArches, b.remoteArches];
    },
    expected: [['amd64'], ['arm64']],
  },
  { name: 'docker driver has no default arch', run: () => builder({ driver: 'docker' }).arches, error: 'builder: Builder arch not set' },
  { name: 'cloud driver', run: () => builder({ arch: 'amd64', driver: 'cloud org/builder' }).isCloud, expected: true },
  {
    name: 'clone and build directories',
    run: () => {
      const b = builder({ arch: 'amd64' });
      const opts = { tmpdir: '/tmp', pwd: '/home/me/repo/app', gitUsed: true, gitRoot: '/home/me/repo' };
      return [
        b.isGitClone(true),
        b.cloneDirectory(opts).startsWith('/tmp/kamal-clones/app-'),
        b.cloneDirectory(opts).length,
        b.buildDirectory(opts).endsWith('/repo/app'),
      ];
    },
    expected: [true, true, '/tmp/kamal-clones/app-'.length + 13, true],
  },
  { name: 'no clone with a context', run: () => builder({ arch: 'amd64', context: '.' }).isGitClone(true), expected: false },
];

// --- env ---
const envOf = (cfg: Raw, secretValues: Record<string, string> = {}) => new Env({ config: cfg, secrets: new MapSecretStore(secretValues) });

const envCases: ModelCase[] = [
  {
    name: 'simple',
    run: () => [args(envOf({ foo: 'bar', baz: 'haz' }).clearArgs()), envOf({ foo: 'bar', baz: 'haz' }).secretsIo().reveal()],
    expected: ['--env foo="bar" --env baz="haz"', '\n'],
  },
  {
    name: 'clear',
    run: () => [
      args(envOf({ clear: { foo: 'bar', baz: 'haz' } }).clearArgs()),
      envOf({ clear: { foo: 'bar', baz: 'haz' } })
        .secretsIo()
        .reveal(),
    ],
    expected: ['--env foo="bar" --env baz="haz"', '\n'],
  },
  {
    name: 'secret',
    run: () => [
      args(envOf({ secret: ['PASSWORD'] }, { PASSWORD: 'hello' }).clearArgs()),
      envOf({ secret: ['PASSWORD'] }, { PASSWORD: 'hello' })
        .secretsIo()
        .reveal(),
    ],
    expected: ['', 'PASSWORD=hello\n'],
  },
  { name: 'missing secret', run: () => envOf({ secret: ['PASSWORD'] }).secretsIo(), error: "Secret 'PASSWORD' not found" },
  {
    name: 'secret and clear',
    run: () => {
      const e = envOf({ secret: ['PASSWORD'], clear: { foo: 'bar', baz: 'haz' } }, { PASSWORD: 'hello' });
      return [args(e.clearArgs()), e.secretsIo().reveal()];
    },
    expected: ['--env foo="bar" --env baz="haz"', 'PASSWORD=hello\n'],
  },
  {
    name: 'aliased secrets',
    run: () => {
      const e = envOf({ secret: ['PASSWORD:ALIASED_PASSWORD'], clear: {} }, { ALIASED_PASSWORD: 'hello' });
      return [args(e.clearArgs()), e.secretsIo().reveal()];
    },
    expected: ['', 'PASSWORD=hello\n'],
  },
];

// --- env tags ---
const tagsDeploy = (): Raw => ({
  ...base(),
  servers: [{ '1.1.1.1': 'odd' }, { '1.1.1.2': 'even' }, { '1.1.1.3': ['odd', 'three'] }],
  env: {
    clear: { REDIS_URL: 'redis://x/y', THREE: 'false' },
    tags: { odd: { TYPE: 'odd' }, even: { TYPE: 'even' }, three: { THREE: 'true' } },
  },
});
const tagsWithRoles = (): Raw => ({
  ...tagsDeploy(),
  servers: {
    web: [{ '1.1.1.1': 'odd' }, '1.1.1.2'],
    workers: { hosts: [{ '1.1.1.3': ['odd', 'oddjob'] }, '1.1.1.4'], cmd: 'bin/jobs', env: { REDIS_URL: 'redis://a/b', WEB_CONCURRENCY: 4 } },
  },
  env: { tags: { odd: { TYPE: 'odd' }, oddjob: { TYPE: 'oddjob' } } },
});
const singleHost = (tags: Raw, hostTags: string | string[]): Raw => ({ ...base(), servers: [{ '1.1.1.1': hostTags }], env: { tags } });

const tagCases: ModelCase[] = [
  {
    name: 'tags',
    run: () => {
      const c = config(tagsDeploy());
      return [c.envTags.length, c.envTags.map((t) => t.name), c.envTag('odd')!.env.clear, c.envTag('even')!.env.clear, c.envTag('three')!.env.clear];
    },
    expected: [3, ['odd', 'even', 'three'], { TYPE: 'odd' }, { TYPE: 'even' }, { THREE: 'true' }],
  },
  {
    name: 'tags with roles',
    run: () => {
      const c = config(tagsWithRoles());
      return [c.envTags.length, c.envTags.map((t) => t.name), c.envTag('odd')!.env.clear, c.envTag('oddjob')!.env.clear];
    },
    expected: [2, ['odd', 'oddjob'], { TYPE: 'odd' }, { TYPE: 'oddjob' }],
  },
  {
    name: 'tag overrides env',
    run: () => [config(tagsDeploy()).role('web')!.env('1.1.1.1').clear.THREE, config(tagsDeploy()).role('web')!.env('1.1.1.3').clear.THREE],
    expected: ['false', 'true'],
  },
  {
    name: 'later tag wins',
    run: () =>
      config(singleHost({ first: { TYPE: 'first' }, second: { TYPE: 'second' } }, ['first', 'second']))
        .role('web')!
        .env('1.1.1.1').clear.TYPE,
    expected: 'second',
  },
  {
    name: 'tag secret env',
    run: () =>
      config(singleHost({ secrets: { secret: ['PASSWORD'] } }, 'secrets'), { secretValues: { PASSWORD: 'hello' } })
        .role('web')!
        .env('1.1.1.1')
        .secretsIo()
        .reveal(),
    expected: 'PASSWORD=hello\n',
  },
  {
    name: 'aliased tag secret env',
    run: () =>
      config(singleHost({ secrets: { secret: ['PASSWORD:ALIASED_PASSWORD'] } }, 'secrets'), {
        secretValues: { PASSWORD: 'hello', ALIASED_PASSWORD: 'aliased_hello' },
      })
        .role('web')!
        .env('1.1.1.1')
        .secretsIo()
        .reveal(),
    expected: 'PASSWORD=aliased_hello\n',
  },
  {
    name: 'tag clear env',
    run: () =>
      config(singleHost({ clearly: { clear: { FOO: 'bar' } } }, 'clearly'))
        .role('web')!
        .env('1.1.1.1').clear.FOO,
    expected: 'bar',
  },
  // tagged env in docker run args
  {
    name: 'tagged env args per host',
    run: () => [args(config(tagsDeploy()).role('web')!.envArgs('1.1.1.2')), args(config(tagsDeploy()).role('web')!.envArgs('1.1.1.3'))],
    expected: [
      '--env REDIS_URL="redis://x/y" --env THREE="false" --env TYPE="even" --env-file .kamal/apps/app/env/roles/web.env',
      '--env REDIS_URL="redis://x/y" --env THREE="true" --env TYPE="odd" --env-file .kamal/apps/app/env/roles/web.env',
    ],
  },
];

// --- proxy ---
const proxyOf = (proxy: unknown, secretValues?: Record<string, string>) => config({ ...base(), proxy }, { secretValues }).proxy;
const CERTS = { ssl: { certificate_pem: 'CERT_PEM', private_key_pem: 'KEY_PEM' }, host: 'example.com' };

const proxyCases: ModelCase[] = [
  { name: 'ssl with host', run: () => proxyOf({ ssl: true, host: 'example.com' }).ssl, expected: true },
  {
    name: 'ssl with multiple hosts passed via host',
    run: () => [proxyOf({ ssl: true, host: 'example.com,anotherexample.com' }).ssl, proxyOf({ ssl: true, host: 'example.com,anotherexample.com' }).hosts],
    expected: [true, ['example.com', 'anotherexample.com']],
  },
  { name: 'ssl with multiple hosts passed via hosts', run: () => proxyOf({ ssl: true, hosts: ['example.com', 'anotherexample.com'] }).ssl, expected: true },
  { name: 'ssl false', run: () => proxyOf({ ssl: false }).ssl, expected: false },
  {
    name: 'ssl with certificate and private key from secrets',
    run: () => {
      const p = proxyOf(CERTS, { CERT_PEM: 'certificate', KEY_PEM: 'private_key' });
      return [p.hostTlsCert, p.hostTlsKey, p.containerTlsCert, p.containerTlsKey, p.certificatePemContent?.reveal(), p.privateKeyPemContent?.reveal()];
    },
    expected: [
      '.kamal/proxy/apps-config/app/tls/cert.pem',
      '.kamal/proxy/apps-config/app/tls/key.pem',
      '/home/kamal-proxy/.apps-config/app/tls/cert.pem',
      '/home/kamal-proxy/.apps-config/app/tls/key.pem',
      'certificate',
      'private_key',
    ],
  },
  {
    name: 'deploy options with custom ssl certificates',
    run: () => {
      const o = proxyOf(CERTS, { CERT_PEM: 'certificate', KEY_PEM: 'private_key' }).deployOptions();
      return [o.get('tls'), o.get('tls-certificate-path'), o.get('tls-private-key-path')];
    },
    expected: [true, '/home/kamal-proxy/.apps-config/app/tls/cert.pem', '/home/kamal-proxy/.apps-config/app/tls/key.pem'],
  },
  // beyond Kamal's tests: every deploy option in Kamal's flag order
  {
    name: 'deploy command args with every option',
    run: () =>
      args(
        config(
          {
            ...base(),
            deploy_timeout: 40,
            drain_timeout: 10,
            error_pages_path: 'public/errors',
            proxy: {
              hosts: ['a.example.com', 'b.example.com'],
              ssl: true,
              app_port: 3000,
              healthcheck: { interval: 2, timeout: 4, path: '/up' },
              response_timeout: 60,
              buffering: { requests: false, responses: true, memory: 1000, max_request_body: 2000, max_response_body: 3000 },
              path_prefix: '/api,/admin',
              strip_path_prefix: false,
              forward_headers: true,
              ssl_redirect: false,
              logging: { request_headers: ['X-Request-Id'], response_headers: ['X-Runtime'] },
            },
          },
          { version: 'abc' },
        ).proxy.deployCommandArgs({ target: '172.18.0.5' }),
      ),
    expected:
      '--target="172.18.0.5:3000" --host="a.example.com" --host="b.example.com" --tls --deploy-timeout="40s" --drain-timeout="10s" ' +
      '--health-check-interval="2s" --health-check-timeout="4s" --health-check-path="/up" --target-timeout="60s" ' +
      '--buffer-requests="false" --buffer-responses --buffer-memory="1000" --max-request-body="2000" --max-response-body="3000" ' +
      '--path-prefix="/api" --path-prefix="/admin" --strip-path-prefix="false" --forward-headers --tls-redirect="false" ' +
      '--log-request-header="X-Request-Id" --log-response-header="X-Runtime" --error-pages="/home/kamal-proxy/.apps-config/app/error_pages/abc"',
  },
  {
    name: 'stop command args',
    run: () => args(proxyOf({}).stopCommandArgs({ drainTimeout: 10, message: 'Back soon' })),
    expected: '--drain-timeout="10s" --message="Back soon"',
  },
  {
    name: 'proxy directories',
    run: () => {
      const b = config({ ...base(), servers: ['1.1.1.1', '1.1.1.2'] }).proxyBoot;
      return [
        b.appsDirectory,
        b.appsContainerDirectory,
        b.appDirectory,
        b.appContainerDirectory,
        b.errorPagesDirectory,
        b.errorPagesContainerDirectory,
        b.tlsDirectory,
        b.tlsContainerDirectory,
      ];
    },
    expected: [
      '.kamal/proxy/apps-config',
      '/home/kamal-proxy/.apps-config',
      '.kamal/proxy/apps-config/app',
      '/home/kamal-proxy/.apps-config/app',
      '.kamal/proxy/apps-config/app/error_pages',
      '/home/kamal-proxy/.apps-config/app/error_pages',
      '.kamal/proxy/apps-config/app/tls',
      '/home/kamal-proxy/.apps-config/app/tls',
    ],
  },
  {
    name: 'boot_config defaults and publish args',
    run: () => {
      const b = config(base()).proxyBoot;
      return [b.defaultBootOptions().join(' '), b.publishArgs(8080, 8443, ['127.0.0.1', '::1']).join(' '), b.imageDefault, b.optionsFile];
    },
    expected: [
      '--publish 80:80 --publish 443:443 --log-opt max-size=10m',
      '--publish 127.0.0.1:8080:80 --publish 127.0.0.1:8443:443 --publish [::1]:8080:80 --publish [::1]:8443:443',
      'basecamp/kamal-proxy',
      '.kamal/proxy/options',
    ],
  },
  {
    name: 'boot_config rejects invalid bind ips',
    run: () => config(base()).proxyBoot.publishArgs(80, 443, ['not-an-ip']),
    error: 'Invalid publish IP address: not-an-ip',
  },
  {
    name: 'run objects with identical config are equal',
    run: () => {
      const c = config({ ...base(), proxy: { run: { log_max_size: '50m' } } });
      return new ProxyRun(c, { runConfig: { log_max_size: '50m' } }).equals(new ProxyRun(c, { runConfig: { log_max_size: '50m' } }));
    },
    expected: true,
  },
  {
    name: 'run objects with different config are not equal',
    run: () => {
      const c = config({ ...base(), proxy: { run: { log_max_size: '50m' } } });
      return new ProxyRun(c, { runConfig: { log_max_size: '50m' } }).equals(new ProxyRun(c, { runConfig: { log_max_size: '100m' } }));
    },
    expected: false,
  },
  {
    name: 'no conflict when global proxy run config is inherited by role proxy',
    run: () =>
      config({
        ...base(),
        servers: { web: { hosts: ['1.1.1.1'] }, worker: { hosts: ['1.1.1.1'], cmd: 'bin/jobs', proxy: { hosts: ['worker.example.com'], app_port: 8080 } } },
        proxy: { hosts: ['example.com'], run: { log_max_size: '', options: { 'log-driver': 'journald' } } },
      }).proxyRun('1.1.1.1')?.runConfig,
    expected: { log_max_size: '', options: { 'log-driver': 'journald' } },
  },
];

// --- ssh / sshkit ---
const sshOf = (ssh?: Raw, secretValues?: Record<string, string>) => config({ ...base(), ...(ssh ? { ssh } : {}) }, { secretValues }).ssh;

const sshCases: ModelCase[] = [
  { name: 'ssh options: default user', run: () => sshOf().options().user, expected: 'root' },
  { name: 'ssh options: user', run: () => sshOf({ user: 'app' }).options().user, expected: 'app' },
  { name: 'ssh options: default log level', run: () => sshOf({ user: 'app' }).options().logLevel, expected: 'fatal' },
  { name: 'ssh options: log level', run: () => sshOf({ log_level: 'debug' }).options().logLevel, expected: 'debug' },
  { name: 'ssh options: port', run: () => sshOf({ port: 2222 }).options().port, expected: 2222 },
  { name: 'ssh options: config true', run: () => sshOf({ config: true }).options().config, expected: true },
  { name: 'ssh options: config false', run: () => sshOf({ config: false }).options().config, expected: false },
  { name: 'ssh options: config file', run: () => sshOf({ config: '~/config.mine' }).options().config, expected: '~/config.mine' },
  {
    name: 'ssh options: config files',
    run: () => sshOf({ config: ['~/config.mine.1', '~/config.mine.2'] }).options().config,
    expected: ['~/config.mine.1', '~/config.mine.2'],
  },
  { name: 'ssh options: forward_agent unset', run: () => sshOf().options().forwardAgent, expected: undefined },
  { name: 'ssh options: forward_agent false', run: () => sshOf({ forward_agent: false }).options().forwardAgent, expected: false },
  { name: 'ssh options: forward_agent true', run: () => sshOf({ forward_agent: true }).options().forwardAgent, expected: true },
  { name: 'ssh options with proxy host', run: () => sshOf({ proxy: '1.2.3.4' }).options().proxy, expected: { type: 'jump', jumpProxies: 'root@1.2.3.4' } },
  {
    name: 'ssh options with proxy host and user',
    run: () => sshOf({ proxy: 'app@1.2.3.4' }).options().proxy,
    expected: { type: 'jump', jumpProxies: 'app@1.2.3.4' },
  },
  {
    name: 'ssh options with proxy command',
    run: () => sshOf({ proxy_command: 'ssh -W %h:%p bastion' }).proxy,
    expected: { type: 'command', commandLineTemplate: 'ssh -W %h:%p bastion' },
  },
  {
    name: 'ssh key_data with plain value array',
    run: () => {
      const s = sshOf({ key_data: ['-----BEGIN OPENSSH PRIVATE KEY-----'] });
      return [s.options().keyData?.map((k) => k.reveal()), s.usesInlineKeyData, s.keyData?.every((k) => k instanceof Secret)];
    },
    expected: [['-----BEGIN OPENSSH PRIVATE KEY-----'], true, true],
  },
  {
    name: 'ssh key_data with array containing one secret string',
    run: () =>
      sshOf({ key_data: ['SSH_PRIVATE_KEY'] }, { SSH_PRIVATE_KEY: 'secret_ssh_key' })
        .options()
        .keyData?.map((k) => k.reveal()),
    expected: ['secret_ssh_key'],
  },
  {
    name: 'ssh key_data with array containing multiple secret strings',
    run: () =>
      sshOf({ key_data: ['SSH_PRIVATE_KEY', 'SECOND_KEY'] }, { SSH_PRIVATE_KEY: 'secret_ssh_key', SECOND_KEY: 'second_secret_ssh_key' })
        .options()
        .keyData?.map((k) => k.reveal()),
    expected: ['secret_ssh_key', 'second_secret_ssh_key'],
  },
  {
    name: 'sshkit defaults',
    run: () => {
      const s = config(base()).sshkit;
      return [s.maxConcurrentStarts, s.poolIdleTimeout, s.dnsRetries];
    },
    expected: [30, 900, 3],
  },
  {
    name: 'sshkit overrides',
    run: () => {
      const s = config({ ...base(), sshkit: { max_concurrent_starts: 50, pool_idle_timeout: 600, dns_retries: 5 } }).sshkit;
      return [s.maxConcurrentStarts, s.poolIdleTimeout, s.dnsRetries];
    },
    expected: [50, 600, 5],
  },
];

// --- volume ---
const volumeCases: ModelCase[] = [
  {
    name: 'docker args absolute',
    run: () => args(new Volume({ hostPath: '/root/foo/bar', containerPath: '/assets' }).dockerArgs()),
    expected: '--volume /root/foo/bar:/assets',
  },
  {
    name: 'docker args relative',
    run: () => args(new Volume({ hostPath: 'foo/bar', containerPath: '/assets' }).dockerArgs()),
    expected: '--volume $PWD/foo/bar:/assets',
  },
  {
    name: 'docker args with options',
    run: () => args(new Volume({ hostPath: '/root/foo/bar', containerPath: '/assets', options: 'ro' }).dockerArgs()),
    expected: '--volume /root/foo/bar:/assets:ro',
  },
  {
    name: 'docker args with multiple options',
    run: () => args(new Volume({ hostPath: '/root/foo/bar', containerPath: '/assets', options: 'ro,z' }).dockerArgs()),
    expected: '--volume /root/foo/bar:/assets:ro,z',
  },
  {
    name: 'docker args with selinux z option',
    run: () => args(new Volume({ hostPath: '/data', containerPath: '/data', options: 'z' }).dockerArgs()),
    expected: '--volume /data:/data:z',
  },
  {
    name: 'docker args with selinux Z option',
    run: () => args(new Volume({ hostPath: '/data', containerPath: '/data', options: 'Z' }).dockerArgs()),
    expected: '--volume /data:/data:Z',
  },
];

// --- env file format (lib/kamal/env_file.rb) ---
const envFileCases: ModelCase[] = [
  { name: 'empty env file is a newline', run: () => new EnvFile([]).content().reveal(), expected: '\n' },
  {
    name: 'values are escaped like Kamal',
    run: () =>
      new EnvFile([
        ['A', 'plain'],
        ['B', 'with "quotes" and #{hash}'],
        ['C', 'line1\nline2\ttab\\back'],
        ['D', 'ünïcödé ok'],
        ['E', new Secret('s3cr3t$')],
        ['F', 42],
      ])
        .content()
        .reveal(),
    expected: 'A=plain\nB=with "quotes" and #{hash}\nC=line1\\nline2\\ttab\\\\back\nD=ünïcödé ok\nE=s3cr3t$\nF=42\n',
  },
  { name: 'env file content never shows as text', run: () => String(new EnvFile([['A', new Secret('x')]]).content()), expected: '[REDACTED]' },
];

describe('Boot', () => runModelCases(bootCases));
describe('Builder', () => runModelCases(builderCases));
describe('Env', () => runModelCases(envCases));
describe('Env tags', () => runModelCases(tagCases));
describe('Proxy', () => runModelCases(proxyCases));
describe('Ssh and Sshkit', () => runModelCases(sshCases));
describe('Volume', () => runModelCases(volumeCases));
describe('EnvFile', () => runModelCases(envFileCases));
