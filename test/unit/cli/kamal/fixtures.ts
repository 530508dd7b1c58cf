/**
 * The configs and commands the ported Kamal CLI tests share: Kamal's
 * test/fixtures/deploy_with_accessories.yml written out as our own YAML (two web and
 * two workers hosts, a mysql accessory on 1.1.1.3 and redis on the web hosts), and the
 * lock commands every locked command runs (lock details normalized to `<details>`).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes an app folder's files (paths relative to it) and empty, executable hooks under .kamal/hooks. */
export function writeApp(dir: string, files: Record<string, string>, hooks: string[] = []): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  for (const hook of hooks) {
    const file = join(dir, '.kamal/hooks', hook);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
  }
}

/** deploy_with_accessories.yml; `myCnf` is the local path of mysql's my.cnf file. */
export function withAccessories(o: { myCnf?: string } = {}): string {
  return `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.3"
    - "1.1.1.4"
registry:
  username: user
  password: pw
builder:
  arch: amd64
accessories:
  mysql:
    image: mysql:5.7
    host: 1.1.1.3
    port: 3306
    env:
      clear:
        MYSQL_ROOT_HOST: '%'
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - ${o.myCnf ?? 'config/my.cnf'}:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
readiness_delay: 0
`;
}

export const WITH_ACCESSORIES = withAccessories();

/** deploy_with_proxy.yml: the same with a 6 s deploy timeout. */
export const WITH_PROXY = `${WITH_ACCESSORIES}deploy_timeout: 6\n`;

/** deploy_with_roles.yml: web on 1.1.1.1-2, workers on 1.1.1.3-4, a DigitalOcean registry. */
export const WITH_ROLES = `service: app
image: dhh/app
servers:
  web:
    - 1.1.1.1
    - 1.1.1.2
  workers:
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
deploy_timeout: 1
`;

export const ENSURE_RUN_DIRECTORY = 'mkdir -p .kamal';
export const LOCK_ACQUIRE = 'mkdir .kamal/lock-app && echo "<details>" > .kamal/lock-app/details';
export const LOCK_RELEASE = 'rm .kamal/lock-app/details && rm -r .kamal/lock-app';
export const LOCK_STATUS = 'stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d';
export const NETWORK = 'docker network create kamal';
