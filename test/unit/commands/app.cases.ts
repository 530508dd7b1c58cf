// Ported from Kamal's test/commands/app_test.rb (v2.12.0).
/* eslint-disable @typescript-eslint/no-explicit-any */
import { App } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { cmd, render } from '../../../src/shell.js';
import type { KamalCase } from './parity.js';

type Raw = Record<string, any>;

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: { web: ['1.1.1.1'], workers: ['1.1.1.2'] },
  env: { secret: ['RAILS_MASTER_KEY'] },
  builder: { arch: 'amd64' },
});

const STOP_TIMEOUT_SERVERS = {
  servers: { web: { hosts: ['1.1.1.1'], stop_timeout: 30 }, workers: { hosts: ['1.1.1.2'], cmd: 'bin/jobs', stop_timeout: 60 } },
};

function newCommand(opts: { role?: string; host?: string; destination?: string; extra?: Raw; config?: (c: Raw) => void } = {}): App {
  const raw = { ...base(), ...(opts.extra ?? {}) };
  opts.config?.(raw);
  const config = new Configuration(raw, { destination: opts.destination, version: '999', secrets: new MapSecretStore({ RAILS_MASTER_KEY: '456' }) });
  return new App(config, { role: config.role(opts.role ?? 'web'), host: opts.host ?? '1.1.1.1' });
}

export const appCases: KamalCase[] = [
  {
    test: 'run',
    run: () => newCommand().run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with destination',
    run: () => newCommand({ destination: 'staging' }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-staging-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-staging-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env KAMAL_DESTINATION="staging" --env-file .kamal/apps/app-staging/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination="staging" dhh/app:999',
  },
  {
    test: 'run with hostname',
    run: () => newCommand().run({ hostname: 'myhost' }),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --hostname myhost --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with volumes',
    run: () => newCommand({ extra: { volumes: ['/local/path:/container/path'] } }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --volume /local/path:/container/path --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with custom options',
    run: () =>
      newCommand({
        role: 'jobs',
        host: '1.1.1.2',
        extra: { servers: { web: ['1.1.1.1'], jobs: { hosts: ['1.1.1.2'], cmd: 'bin/jobs', options: { mount: 'somewhere', 'cap-add': true } } } },
      }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-jobs-999 --network kamal --env KAMAL_CONTAINER_NAME="app-jobs-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.2" --env-file .kamal/apps/app/env/roles/jobs.env --log-opt max-size="10m" --label service="app" --label role="jobs" --label destination --mount "somewhere" --cap-add dhh/app:999 bin/jobs',
  },
  {
    test: 'run with custom restart policy',
    run: () => newCommand({ extra: { servers: { web: { hosts: ['1.1.1.1'], options: { restart: 'on-failure' } } } } }).run(),
    expected:
      'docker run --detach --restart on-failure --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with logging config',
    run: () => newCommand({ extra: { logging: { driver: 'local', options: { 'max-size': '100m', 'max-file': '3' } } } }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with role logging config',
    run: () =>
      newCommand({
        extra: {
          logging: { driver: 'local', options: { 'max-size': '10m', 'max-file': '3' } },
          servers: { web: { hosts: ['1.1.1.1'], logging: { driver: 'local', options: { 'max-size': '100m' } } } },
        },
      }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  {
    test: 'run with tags',
    run: () =>
      newCommand({
        config: (c) => {
          c.servers = [{ '1.1.1.1': 'tag1' }];
          c.env.tags = { tag1: { ENV1: 'value1' } };
        },
      }).run(),
    expected:
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env ENV1="value1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
  },
  { test: 'start', run: () => newCommand().start(), expected: 'docker start app-web-999' },
  { test: 'start with destination', run: () => newCommand({ destination: 'staging' }).start(), expected: 'docker start app-web-staging-999' },
  {
    test: 'stop',
    run: () => newCommand().stop(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop",
  },
  {
    test: 'stop with custom drain timeout',
    run: () => newCommand({ extra: { drain_timeout: 20 } }).stop(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop",
  },
  {
    test: 'stop with custom drain timeout',
    run: () => newCommand({ role: 'workers', extra: { drain_timeout: 20 } }).stop(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 20",
  },
  {
    test: 'stop with stop_timeout',
    run: () => newCommand({ extra: STOP_TIMEOUT_SERVERS }).stop(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 30",
  },
  {
    test: 'stop with stop_timeout',
    run: () => newCommand({ role: 'workers', extra: STOP_TIMEOUT_SERVERS }).stop(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=workers --filter status=running --filter status=restarting' | head -1 | xargs docker stop -t 60",
  },
  {
    test: 'stop with version',
    run: () => newCommand().stop({ version: '123' }),
    expected: "docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker stop",
  },
  { test: 'info', run: () => newCommand().info(), expected: 'docker ps --filter label=service=app --filter label=destination= --filter label=role=web' },
  {
    test: 'info with destination',
    run: () => newCommand({ destination: 'staging' }).info(),
    expected: 'docker ps --filter label=service=app --filter label=destination=staging --filter label=role=web',
  },
  {
    test: 'deploy',
    run: () => newCommand().deploy({ target: '172.1.0.2' }),
    expected:
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
  },
  {
    test: 'deploy with SSL',
    run: () => newCommand({ extra: { proxy: { ssl: true, host: 'example.com' } } }).deploy({ target: '172.1.0.2' }),
    expected:
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --host="example.com" --tls --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
  },
  {
    test: 'deploy with SSL targeting multiple hosts',
    run: () => newCommand({ extra: { proxy: { ssl: true, hosts: ['example.com', 'anotherexample.com'] } } }).deploy({ target: '172.1.0.2' }),
    expected:
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --host="example.com" --host="anotherexample.com" --tls --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
  },
  {
    test: 'deploy with SSL false',
    run: () => newCommand({ extra: { proxy: { ssl: false } } }).deploy({ target: '172.1.0.2' }),
    expected:
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
  },
  { test: 'remove', run: () => newCommand().remove(), expected: 'docker exec kamal-proxy kamal-proxy remove app-web' },
  {
    test: 'logs',
    run: () => newCommand().logs(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1",
  },
  {
    test: 'logs with container_id',
    run: () => newCommand().logs({ containerId: 'C137' }),
    expected: "sh -c 'echo C137' | xargs docker logs --timestamps 2>&1",
  },
  {
    test: 'logs with since',
    run: () => newCommand().logs({ since: '5m' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1",
  },
  {
    test: 'logs with lines',
    run: () => newCommand().logs({ lines: '100' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --tail 100 2>&1",
  },
  {
    test: 'logs with since and lines',
    run: () => newCommand().logs({ since: '5m', lines: '100' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m --tail 100 2>&1",
  },
  {
    test: 'logs with grep',
    run: () => newCommand().logs({ grep: 'my-id' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1 | grep 'my-id'",
    words: true,
  },
  {
    test: 'logs with grep and grep options',
    run: () => newCommand().logs({ grep: 'my-id', grepOptions: '-C 2' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps 2>&1 | grep 'my-id' -C 2",
    words: true,
  },
  {
    test: 'logs with since, grep and grep options',
    run: () => newCommand().logs({ since: '5m', grep: 'my-id', grepOptions: '-C 2' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1 | grep 'my-id' -C 2",
    words: true,
  },
  {
    test: 'logs with since and grep',
    run: () => newCommand().logs({ since: '5m', grep: 'my-id' }),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker logs --timestamps --since 5m 2>&1 | grep 'my-id'",
    words: true,
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1' }),
    expected:
      "ssh -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'",
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1', grep: 'Completed' }),
    expected:
      "ssh -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --follow 2>&1 | grep \"Completed\"'",
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1', containerId: 'ID321' }),
    expected: "ssh -t root@app-1 -p 22 'sh -c '\\''echo ID321'\\'' | xargs docker logs --timestamps --follow 2>&1'",
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1', lines: 123 }),
    expected:
      "ssh -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --tail 123 --follow 2>&1'",
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1', lines: 123, grep: 'Completed' }),
    expected:
      "ssh -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --tail 123 --follow 2>&1 | grep \"Completed\"'",
  },
  {
    test: 'follow logs',
    run: () => newCommand().followLogs({ host: 'app-1', timestamps: false, lines: 123, grep: 'Completed' }),
    expected:
      "ssh -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --tail 123 --follow 2>&1 | grep \"Completed\"'",
  },
  {
    test: 'follow logs with ssh keys',
    run: () => newCommand({ extra: { ssh: { keys: ['path_to_key.pem'] } } }).followLogs({ host: 'app-1' }),
    expected:
      "ssh -i path_to_key.pem -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'",
  },
  {
    test: 'follow logs with ssh proxy_command',
    run: () => newCommand({ extra: { ssh: { proxy_command: 'ssh -W %h:%p user@proxy-server' } } }).followLogs({ host: 'app-1' }),
    expected:
      "ssh -o ProxyCommand='ssh -W %h:%p user@proxy-server' -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'",
  },
  {
    test: 'follow logs with ssh config file',
    run: () => newCommand({ extra: { ssh: { config: '~/.ssh/custom_config' } } }).followLogs({ host: 'app-1' }),
    expected:
      "ssh -F ~/.ssh/custom_config -t root@app-1 -p 22 'sh -c '\\''docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting'\\'' | head -1 | xargs docker logs --timestamps --follow 2>&1'",
  },
  {
    test: 'execute in new container',
    run: () => newCommand().executeInNewContainer(['bin/rails', 'db:setup'], { env: {} }),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container with logging',
    run: () =>
      newCommand({ extra: { logging: { driver: 'local', options: { 'max-size': '100m', 'max-file': '3' } } } }).executeInNewContainer(
        ['bin/rails', 'db:setup'],
        { env: {} },
      ),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container with env',
    run: () => newCommand().executeInNewContainer(['bin/rails', 'db:setup'], { env: { foo: 'bar' } }),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --env foo="bar" --log-opt max-size="10m" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new detached container',
    run: () => newCommand().executeInNewContainer(['bin/rails', 'db:setup'], { detach: true, env: {} }),
    expected:
      /^docker run --detach --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container with tags',
    run: () =>
      newCommand({
        config: (c) => {
          c.servers = [{ '1.1.1.1': 'tag1' }];
          c.env.tags = { tag1: { ENV1: 'value1' } };
        },
      }).executeInNewContainer(['bin/rails', 'db:setup'], { env: {} }),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env ENV1="value1" --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container with custom options',
    run: () =>
      newCommand({ extra: { servers: { web: { hosts: ['1.1.1.1'], options: { mount: 'somewhere', 'cap-add': true } } } } }).executeInNewContainer(
        ['bin/rails', 'db:setup'],
        { env: {} },
      ),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" --mount "somewhere" --cap-add dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container excludes restart policy',
    run: () =>
      newCommand({ extra: { servers: { web: { hosts: ['1.1.1.1'], options: { restart: 'on-failure', mount: 'somewhere' } } } } }).executeInNewContainer(
        ['bin/rails', 'db:setup'],
        { env: {} },
      ),
    expected:
      /^docker run --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" --mount "somewhere" dhh\/app:999 bin\/rails db:setup$/,
  },
  {
    test: 'execute in new container excludes restart policy',
    run: () =>
      render(
        newCommand({ extra: { servers: { web: { hosts: ['1.1.1.1'], options: { restart: 'on-failure', mount: 'somewhere' } } } } }).executeInNewContainer(
          ['bin/rails', 'db:setup'],
          { env: {} },
        ),
      ).includes('--restart'),
    expected: false,
  },
  {
    test: 'execute in existing container',
    run: () => newCommand().executeInExistingContainer(['bin/rails', 'db:setup'], { env: {} }),
    expected: 'docker exec app-web-999 bin/rails db:setup',
  },
  {
    test: 'execute in existing container with env',
    run: () => newCommand().executeInExistingContainer(['bin/rails', 'db:setup'], { env: { foo: 'bar' } }),
    expected: 'docker exec --env foo="bar" app-web-999 bin/rails db:setup',
  },
  {
    test: 'execute in new container over ssh',
    run: () => newCommand().executeInNewContainerOverSsh(['bin/rails', 'c'], { env: {}, tty: true }),
    expected:
      /docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" dhh\/app:999 bin\/rails c/,
  },
  {
    test: 'execute in new container over ssh with tags',
    run: () =>
      newCommand({
        config: (c) => {
          c.servers = [{ '1.1.1.1': 'tag1' }];
          c.env.tags = { tag1: { ENV1: 'value1' } };
        },
      }).executeInNewContainerOverSsh(['bin/rails', 'c'], { env: {}, tty: true }),
    expected:
      /ssh -t root@1.1.1.1 -p 22 'docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env ENV1="value1" --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" dhh\/app:999 bin\/rails c'/,
  },
  {
    test: 'execute in new container with custom options over ssh',
    run: () =>
      newCommand({ extra: { servers: { web: { hosts: ['1.1.1.1'], options: { mount: 'somewhere', 'cap-add': true } } } } }).executeInNewContainerOverSsh(
        ['bin/rails', 'c'],
        { env: {}, tty: true },
      ),
    expected:
      /docker run -it --rm --name app-web-exec-999-[0-9a-f]{6} --network kamal --env-file .kamal\/apps\/app\/env\/roles\/web.env --log-opt max-size="10m" --mount "somewhere" --cap-add dhh\/app:999 bin\/rails c/,
  },
  {
    test: 'execute in existing container over ssh',
    run: () => newCommand().executeInExistingContainerOverSsh(['bin/rails', 'c'], { env: {}, tty: true }),
    expected: /docker exec -it app-web-999 bin\/rails c/,
  },
  {
    test: 'execute in existing container with piped input over ssh',
    run: () => newCommand().executeInExistingContainerOverSsh(['bin/rails', 'c'], { env: {}, tty: false }),
    expected: /docker exec -i app-web-999 bin\/rails c/,
  },
  { test: 'run over ssh', run: () => newCommand().runOverSsh(cmd('ls'), { host: '1.1.1.1' }), expected: "ssh -t root@1.1.1.1 -p 22 'ls'", words: true },
  {
    test: 'run over ssh with custom user',
    run: () => newCommand({ extra: { ssh: { user: 'app' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -t app@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with custom port',
    run: () => newCommand({ extra: { ssh: { port: '2222' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -t root@1.1.1.1 -p 2222 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with proxy',
    run: () => newCommand({ extra: { ssh: { proxy: '2.2.2.2' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -J root@2.2.2.2 -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with proxy user',
    run: () => newCommand({ extra: { ssh: { proxy: 'app@2.2.2.2' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -J app@2.2.2.2 -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with custom user with proxy',
    run: () => newCommand({ extra: { ssh: { user: 'app', proxy: '2.2.2.2' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -J root@2.2.2.2 -t app@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with keys config',
    run: () => newCommand({ extra: { ssh: { keys: ['path_to_key.pem'] } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -i path_to_key.pem -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with keys config with keys_only',
    run: () => newCommand({ extra: { ssh: { keys: ['path_to_key.pem'], keys_only: true } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -i path_to_key.pem -o IdentitiesOnly=yes -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with proxy_command',
    run: () => newCommand({ extra: { ssh: { proxy_command: 'ssh -W %h:%p user@proxy-server' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -o ProxyCommand='ssh -W %h:%p user@proxy-server' -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with config file',
    run: () => newCommand({ extra: { ssh: { config: '~/.ssh/custom_config' } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -F ~/.ssh/custom_config -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with multiple config files',
    run: () => newCommand({ extra: { ssh: { config: ['~/.ssh/config1', '~/.ssh/config2'] } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -F ~/.ssh/config1 -F ~/.ssh/config2 -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with config false',
    run: () => newCommand({ extra: { ssh: { config: false } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -F /dev/null -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'run over ssh with config true',
    run: () => newCommand({ extra: { ssh: { config: true } } }).runOverSsh(cmd('ls'), { host: '1.1.1.1' }),
    expected: "ssh -t root@1.1.1.1 -p 22 'ls'",
    words: true,
  },
  {
    test: 'current_running_container_id',
    run: () => newCommand().currentRunningContainerId(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1",
  },
  {
    test: 'current_running_container_id with destination',
    run: () => newCommand({ destination: 'staging' }).currentRunningContainerId(),
    expected:
      "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination=staging --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest-staging --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination=staging --filter label=role=web --filter status=running --filter status=restarting' | head -1",
  },
  {
    test: 'container_id_for',
    run: () => newCommand().containerIdFor({ containerName: 'app-999' }),
    expected: "docker container ls --all --filter 'name=^app-999$' --quiet",
  },
  {
    test: 'current_running_version',
    run: () => newCommand().currentRunningVersion(),
    expected:
      "sh -c 'docker ps --latest --format '\\''{{.Names}}'\\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --format '\\''{{.Names}}'\\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | while read line; do echo ${line#app-web-}; done",
  },
  {
    test: 'list_versions',
    run: () => newCommand().listVersions(),
    expected:
      'docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done',
  },
  {
    test: 'list_versions',
    run: () => newCommand().listVersions(['--latest'], { statuses: ['running', 'restarting'] }),
    expected:
      'docker ps --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --latest --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done',
  },
  {
    test: 'list_containers',
    run: () => newCommand().listContainers(),
    expected: 'docker container ls --all --filter label=service=app --filter label=destination= --filter label=role=web',
  },
  {
    test: 'list_containers with destination',
    run: () => newCommand({ destination: 'staging' }).listContainers(),
    expected: 'docker container ls --all --filter label=service=app --filter label=destination=staging --filter label=role=web',
  },
  {
    test: 'list_container_names',
    run: () => newCommand().listContainerNames(),
    expected: "docker container ls --all --filter label=service=app --filter label=destination= --filter label=role=web --format '{{ .Names }}'",
  },
  {
    test: 'remove_container',
    run: () => newCommand().removeContainer({ version: '999' }),
    expected: "docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker container rm",
  },
  {
    test: 'remove_container with destination',
    run: () => newCommand({ destination: 'staging' }).removeContainer({ version: '999' }),
    expected: "docker container ls --all --filter 'name=^app-web-staging-999$' --quiet | xargs docker container rm",
  },
  {
    test: 'remove_containers',
    run: () => newCommand().removeContainers(),
    expected: 'docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web',
  },
  {
    test: 'remove_containers with destination',
    run: () => newCommand({ destination: 'staging' }).removeContainers(),
    expected: 'docker container prune --force --filter label=service=app --filter label=destination=staging --filter label=role=web',
  },
  { test: 'list_images', run: () => newCommand().listImages(), expected: 'docker image ls dhh/app' },
  { test: 'remove_images', run: () => newCommand().removeImages(), expected: 'docker image prune --all --force --filter label=service=app' },
  {
    test: 'remove_images with destination',
    run: () => newCommand({ destination: 'staging' }).removeImages(),
    expected: 'docker image prune --all --force --filter label=service=app',
  },
  { test: 'tag_latest_image', run: () => newCommand().tagLatestImage(), expected: 'docker tag dhh/app:999 dhh/app:latest' },
  {
    test: 'tag_latest_image with destination',
    run: () => newCommand({ destination: 'staging' }).tagLatestImage(),
    expected: 'docker tag dhh/app:999 dhh/app:latest-staging',
  },
  {
    test: 'extract assets',
    run: () => newCommand({ extra: { asset_path: '/public/assets' } }).extractAssets(),
    expected: [
      'mkdir',
      '-p',
      '.kamal/apps/app/assets/extracted/web-999',
      '&&',
      'docker',
      'container',
      'rm',
      'app-web-assets',
      '2> /dev/null',
      '|| true',
      '&&',
      'docker',
      'container',
      'create',
      '--name',
      'app-web-assets',
      'dhh/app:999',
      '&&',
      'docker',
      'container',
      'cp',
      '-L',
      'app-web-assets:/public/assets/.',
      '.kamal/apps/app/assets/extracted/web-999',
      '&&',
      'docker',
      'container',
      'rm',
      'app-web-assets',
    ].join(' '),
  },
  {
    test: 'sync asset volumes',
    run: () => newCommand({ extra: { asset_path: '/public/assets' } }).syncAssetVolumes(),
    expected: [
      'mkdir',
      '-p',
      '.kamal/apps/app/assets/volumes/web-999',
      ';',
      'cp',
      '-rnT',
      '.kamal/apps/app/assets/extracted/web-999',
      '.kamal/apps/app/assets/volumes/web-999',
    ].join(' '),
  },
  {
    test: 'sync asset volumes',
    run: () => newCommand({ extra: { asset_path: '/public/assets' } }).syncAssetVolumes({ oldVersion: 998 }),
    expected: [
      'mkdir',
      '-p',
      '.kamal/apps/app/assets/volumes/web-999',
      ';',
      'cp',
      '-rnT',
      '.kamal/apps/app/assets/extracted/web-999',
      '.kamal/apps/app/assets/volumes/web-999',
      ';',
      'cp',
      '-rnT',
      '.kamal/apps/app/assets/extracted/web-999',
      '.kamal/apps/app/assets/volumes/web-998',
      '|| true',
      ';',
      'cp',
      '-rnT',
      '.kamal/apps/app/assets/extracted/web-998',
      '.kamal/apps/app/assets/volumes/web-999',
      '|| true',
    ].join(' '),
  },
  {
    test: 'clean up assets',
    run: () => newCommand({ extra: { asset_path: '/public/assets' } }).cleanUpAssets(),
    expected: [
      'find',
      '.kamal/apps/app/assets/extracted',
      '-maxdepth 1',
      '-name',
      "'web-*'",
      '!',
      '-name',
      'web-999',
      '-exec rm -rf "{}" +',
      ';',
      'find',
      '.kamal/apps/app/assets/volumes',
      '-maxdepth 1',
      '-name',
      "'web-*'",
      '!',
      '-name',
      'web-999',
      '-exec rm -rf "{}" +',
    ].join(' '),
  },
  { test: 'live', run: () => newCommand().live(), expected: 'docker exec kamal-proxy kamal-proxy resume app-web' },
  { test: 'maintenance', run: () => newCommand().maintenance(), expected: 'docker exec kamal-proxy kamal-proxy stop app-web' },
  {
    test: 'maintenance with options',
    run: () => newCommand().maintenance({ drainTimeout: 10, message: 'Hi' }),
    expected: 'docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="10s" --message="Hi"',
  },
  { test: 'remove_proxy_app_directory', run: () => newCommand().removeProxyAppDirectory(), expected: 'rm -r .kamal/proxy/apps-config/app' },
];
