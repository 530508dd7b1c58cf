// Ported from Kamal's test/commands/accessory_test.rb (v2.12.0).
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Accessory } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { render } from '../../../src/shell.js';
import type { KamalCase } from './parity.js';

type Raw = Record<string, any>;

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { server: 'private.registry', username: 'dhh', password: 'secret' },
  servers: ['1.1.1.1'],
  builder: { arch: 'amd64' },
  accessories: {
    mysql: {
      image: 'private.registry/mysql:8.0',
      host: '1.1.1.5',
      port: '3306',
      env: { clear: { MYSQL_ROOT_HOST: '%' }, secret: ['MYSQL_ROOT_PASSWORD'] },
      options: { cpus: '4', memory: '2GB' },
    },
    redis: {
      image: 'redis:latest',
      host: '1.1.1.6',
      port: '6379:6379',
      labels: { cache: 'true' },
      env: { SOMETHING: 'else' },
      volumes: ['/var/lib/redis:/data'],
    },
    busybox: {
      service: 'custom-busybox',
      image: 'busybox:latest',
      registry: { server: 'other.registry', username: 'user', password: 'pw' },
      host: '1.1.1.7',
      proxy: { host: 'busybox.example.com' },
    },
  },
});

function newCommand(name: string, change?: (c: Raw) => void): Accessory {
  const raw = base();
  change?.(raw);
  const config = new Configuration(raw, { version: '123', secrets: new MapSecretStore({ MYSQL_ROOT_PASSWORD: 'secret123' }) });
  return new Accessory(config, { name });
}

export const accessoryCases: KamalCase[] = [
  {
    test: 'run',
    run: () => newCommand('mysql').run(),
    expected:
      'docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
  },
  {
    test: 'run',
    run: () => newCommand('redis').run(),
    expected:
      'docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 6379:6379 --env SOMETHING="else" --env-file .kamal/apps/app/env/accessories/redis.env --volume /var/lib/redis:/data --label service="app-redis" --label cache="true" redis:latest',
  },
  {
    test: 'run',
    run: () => newCommand('busybox').run(),
    expected:
      'docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest',
  },
  {
    test: 'run with logging config',
    run: () =>
      newCommand('busybox', (c) => {
        c.logging = { driver: 'local', options: { 'max-size': '100m', 'max-file': '3' } };
      }).run(),
    expected:
      'docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest',
  },
  {
    test: 'run with custom restart policy',
    run: () =>
      newCommand('mysql', (c) => {
        c.accessories.mysql.options.restart = 'on-failure';
      }).run(),
    expected:
      'docker run --name app-mysql --detach --restart on-failure --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
  },
  {
    test: 'run in custom network',
    run: () =>
      newCommand('mysql', (c) => {
        c.accessories.mysql.network = 'custom';
      }).run(),
    expected:
      'docker run --name app-mysql --detach --restart unless-stopped --network custom --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
  },
  { test: 'start', run: () => newCommand('mysql').start(), expected: 'docker container start app-mysql' },
  { test: 'stop', run: () => newCommand('mysql').stop(), expected: 'docker container stop app-mysql' },
  { test: 'info', run: () => newCommand('mysql').info(), expected: 'docker ps --filter label=service=app-mysql' },
  {
    test: 'execute in new container',
    run: () => newCommand('mysql').executeInNewContainer(['mysql', '-u', 'root']),
    expected:
      'docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root',
  },
  {
    test: 'execute in new container excludes restart policy',
    run: () =>
      newCommand('mysql', (c) => {
        c.accessories.mysql.options.restart = 'on-failure';
      }).executeInNewContainer(['mysql', '-u', 'root']),
    expected:
      'docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root',
  },
  {
    test: 'execute in new container excludes restart policy',
    run: () =>
      render(
        newCommand('mysql', (c) => {
          c.accessories.mysql.options.restart = 'on-failure';
        }).executeInNewContainer(['mysql', '-u', 'root']),
      ).includes('--restart'),
    expected: false,
  },
  {
    test: 'execute in existing container',
    run: () => newCommand('mysql').executeInExistingContainer(['mysql', '-u', 'root']),
    expected: 'docker exec app-mysql mysql -u root',
  },
  {
    test: 'execute in new container over ssh',
    run: () => newCommand('mysql').executeInNewContainerOverSsh(['mysql', '-u', 'root'], { tty: true }),
    expected:
      /docker run -it --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal\/apps\/app\/env\/accessories\/mysql.env --cpus "4" --memory "2GB" private.registry\/mysql:8.0 mysql -u root/,
  },
  {
    test: 'execute in existing container over ssh',
    run: () => newCommand('mysql').executeInExistingContainerOverSsh(['mysql', '-u', 'root'], { tty: true }),
    expected: /docker exec -it app-mysql mysql -u root/,
  },
  {
    test: 'execute in existing container with piped input over ssh',
    run: () => newCommand('mysql').executeInExistingContainerOverSsh(['mysql', '-u', 'root'], { tty: false }),
    expected: /docker exec -i app-mysql mysql -u root/,
  },
  { test: 'logs', run: () => newCommand('mysql').logs(), expected: 'docker logs app-mysql --timestamps 2>&1' },
  {
    test: 'logs',
    run: () => newCommand('mysql').logs({ since: '5m', lines: 100, grep: 'thing' }),
    expected: "docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing'",
    words: true,
  },
  {
    test: 'logs',
    run: () => newCommand('mysql').logs({ since: '5m', lines: 100, grep: 'thing', grepOptions: '-C 2' }),
    expected: "docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing' -C 2",
    words: true,
  },
  {
    test: 'logs',
    run: () => newCommand('mysql').logs({ timestamps: false, since: '5m', lines: 100, grep: 'thing', grepOptions: '-C 2' }),
    expected: "docker logs app-mysql  --since 5m  --tail 100 2>&1 | grep 'thing' -C 2",
    words: true,
  },
  {
    test: 'follow logs',
    run: () => newCommand('mysql').followLogs(),
    expected: "ssh -t root@1.1.1.5 -p 22 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1'",
  },
  {
    test: 'follow logs',
    run: () => newCommand('mysql').followLogs({ timestamps: false }),
    expected: "ssh -t root@1.1.1.5 -p 22 'docker logs app-mysql --tail 10 --follow 2>&1'",
  },
  { test: 'remove container', run: () => newCommand('mysql').removeContainer(), expected: 'docker container prune --force --filter label=service=app-mysql' },
  { test: 'pull image', run: () => newCommand('mysql').pullImage(), expected: 'docker image pull private.registry/mysql:8.0' },
  { test: 'remove image', run: () => newCommand('mysql').removeImage(), expected: 'docker image rm --force private.registry/mysql:8.0' },
  {
    test: 'deploy',
    run: () => newCommand('busybox').deploy({ target: '172.1.0.2' }),
    expected:
      'docker exec kamal-proxy kamal-proxy deploy custom-busybox --target="172.1.0.2:80" --host="busybox.example.com" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
  },
  { test: 'remove', run: () => newCommand('busybox').remove(), expected: 'docker exec kamal-proxy kamal-proxy remove custom-busybox' },
];

/**
 * The commands of Kamal 2.12's CLI for accessory files and directories (Kamal::Cli::Accessory#upload
 * and #directories; test/cli/accessory_test.rb "directories": `mkdir -p $PWD/app-mysql/data`).
 * Kept apart from the ported command tests, which the parity count matches against Kamal's.
 */
export const accessoryPathCases: KamalCase[] = [
  { test: 'make data directory', run: () => withPaths().makeDataDirectory(withPaths().directories[0]!), expected: 'mkdir -p $PWD/app-mysql/data' },
  { test: 'make data directory absolute', run: () => withPaths().makeDataDirectory(withPaths().directories[1]!), expected: 'mkdir -p /var/backups' },
  { test: 'data directory without mode or owner', run: () => withPaths().dataDirectoryPermissions(withPaths().directories[0]!).length, expected: 0 },
  { test: 'data directory mode', run: () => withPaths().dataDirectoryPermissions(withPaths().directories[2]!)[0]!, expected: 'chmod 0700 $PWD/app-mysql/logs' },
  {
    test: 'data directory owner',
    run: () => withPaths().dataDirectoryPermissions(withPaths().directories[2]!)[1]!,
    expected: 'chown 999:999 $PWD/app-mysql/logs',
  },
  { test: 'make file directory', run: () => withPaths().makeFileDirectory(withPaths().files[0]!), expected: 'mkdir -p app-mysql/etc/mysql' },
  { test: 'file mode', run: () => withPaths().filePermissions(withPaths().files[0]!)[0]!, expected: 'chmod 755 app-mysql/etc/mysql/my.cnf' },
  {
    test: 'file mode and owner',
    run: () =>
      withPaths()
        .filePermissions(withPaths().files[1]!)
        .map((c) => render(c)),
    expected: ['chmod 0644 app-mysql/docker-entrypoint-initdb.d/setup.sql', 'chown 999:999 app-mysql/docker-entrypoint-initdb.d/setup.sql'],
  },
];

/** mysql with files and directories in each form Kamal accepts. */
function withPaths(): Accessory {
  return newCommand('mysql', (c) => {
    c.accessories.mysql.files = [
      'config/mysql/my.cnf:/etc/mysql/my.cnf',
      { local: 'db/setup.sql', remote: '/docker-entrypoint-initdb.d/setup.sql', mode: '0644', owner: '999:999' },
    ];
    c.accessories.mysql.directories = [
      'data:/var/lib/mysql',
      '/var/backups:/backups',
      { local: 'logs', remote: '/var/log/mysql', mode: '0700', owner: '999:999' },
    ];
  });
}
