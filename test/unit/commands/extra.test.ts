/**
 * Commands Kamal's own tests leave out; the expected strings follow Kamal's
 * builders (lib/kamal/commands, v2.12.0) as they would join them.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { describe, expect, it } from 'vitest';
import { Accessory, App, Auditor, Builder, Docker, Lock, Proxy, Registry, Server } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import { display, render, splitShellWords, type Command } from '../../../src/shell.js';

const base = (): Record<string, any> => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: { web: ['1.1.1.1'], workers: ['1.1.1.2'] },
  builder: { arch: 'amd64' },
});

function cfg(extra: Record<string, any> = {}, opts: { destination?: string; validated?: boolean } = {}): Configuration {
  return new Configuration(
    { ...base(), ...extra },
    { version: '999', destination: opts.destination, localArch: 'amd64', secrets: new MapSecretStore({ PW: 'pw' }), validated: opts.validated },
  );
}
/** A builder without `arch`, which Kamal's validation refuses ("Builder arch not set"): the builder's own defaults, built without the checks. */
const noArch = (builder: Record<string, any>) => cfg({ builder }, { validated: true });
const app = (extra: Record<string, any> = {}, role = 'web') => {
  const c = cfg(extra);
  return new App(c, { role: c.role(role), host: '1.1.1.1' });
};

const cases: [string, () => Command | undefined, string][] = [
  [
    'app status',
    () => app().status({ version: '123' }),
    `docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'`,
  ],
  [
    'app container health log',
    () => app().containerHealthLog({ version: '123' }),
    `docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker inspect --format '{{json .State.Health}}'`,
  ],
  [
    'app rename container',
    () => app().renameContainer({ version: '123', newVersion: '123_replaced_abc' }),
    'docker rename app-web-123 app-web-123_replaced_abc',
  ],
  [
    'app container id for running version',
    () => app().containerIdForVersion('123', { onlyRunning: true }),
    `docker container ls --filter 'name=^app-web-123$' --quiet`,
  ],
  ['app ensure env directory', () => app().ensureEnvDirectory(), 'mkdir -p .kamal/apps/app/env/roles'],
  ['app create error pages directory', () => app().createErrorPagesDirectory(), 'mkdir -p .kamal/proxy/apps-config/app/error_pages'],
  [
    'app clean up error pages',
    () => app().cleanUpErrorPages(),
    'find .kamal/proxy/apps-config/app/error_pages -mindepth 1 -maxdepth 1 ! -name 999 -exec rm -rf {} +',
  ],
  ['app create ssl directory', () => app().createSslDirectory(), 'mkdir -p .kamal/proxy/apps-config/app/tls/web'],
  [
    'app stop for a role without proxy',
    () => app({}, 'workers').stop({ version: '1' }),
    `docker container ls --all --filter 'name=^app-workers-1$' --quiet | xargs docker stop -t 30`,
  ],
  [
    'proxy start or run (boot_config)',
    () => new Proxy(cfg(), { host: '1.1.1.1' }).startOrRun(),
    'docker container start kamal-proxy || echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
  ],
  [
    'proxy run with options',
    () => new Proxy(cfg({ proxy: { run: { options: { 'log-driver': 'journald', cpus: 2 } } } }), { host: '1.1.1.1' }).run(),
    'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m --log-driver "journald" --cpus "2" basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
  ],
  [
    'proxy run on a host without proxy roles uses boot_config',
    () => new Proxy(cfg({ proxy: { run: { debug: true } } }), { host: '1.1.1.2' }).run(),
    'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
  ],
  [
    'proxy cleanup traefik',
    () => new Proxy(cfg(), { host: '1.1.1.1' }).cleanupTraefik(),
    'docker container stop traefik ; docker container prune --force --filter label=org.opencontainers.image.title=Traefik && docker image prune --all --force --filter label=org.opencontainers.image.title=Traefik',
  ],
  ['proxy remove directory', () => new Proxy(cfg(), { host: '1.1.1.1' }).removeProxyDirectory(), 'rm -r .kamal/proxy'],
  ['server remove app directory', () => new Server(cfg({}, { destination: 'staging' })).removeAppDirectory(), 'rm -r .kamal/apps/app-staging'],
  ['server app directory count', () => new Server(cfg()).appDirectoryCount(), 'ls .kamal/apps | wc -l'],
  ['docker create network', () => new Docker(cfg()).createNetwork(), 'docker network create kamal'],
  ['auditor reveal', () => new Auditor(cfg()).reveal(), 'tail -n 50 .kamal/app-audit.log'],
  ['lock ensure directory', () => new Lock(cfg()).ensureLocksDirectory(), 'mkdir -p .kamal'],
  [
    'registry logout with destination',
    () => new Registry(cfg({ registry: { server: 'ghcr.io', username: 'u', password: ['PW'] } })).logout(),
    'docker logout ghcr.io',
  ],
  ['local registry has no login', () => new Registry(cfg({ registry: { server: 'localhost:5000' } })).login(), 'undefined'],
  [
    'accessory info all quiet',
    () => new Accessory(cfg({ accessories: { db: { image: 'mysql', host: '1.1.1.3' } } }), { name: 'db' }).info({ all: true, quiet: true }),
    'docker ps -a -q --filter label=service=app-db',
  ],
  [
    'accessory run with host and cmd',
    () =>
      new Accessory(cfg({ accessories: { db: { image: 'redis', host: '1.1.1.3', cmd: 'redis-server --appendonly yes' } } }), { name: 'db' }).run({
        host: '1.1.1.3',
      }),
    'docker run --name app-db --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env KAMAL_HOST="1.1.1.3" --env-file .kamal/apps/app/env/accessories/db.env --label service="app-db" redis redis-server --appendonly yes',
  ],
  [
    'accessory remove service directory',
    () => new Accessory(cfg({ accessories: { db: { image: 'mysql', host: '1.1.1.3' } } }), { name: 'db' }).removeServiceDirectory(),
    'rm -rf app-db',
  ],
  [
    'accessory make directory for a data dir',
    () => new Accessory(cfg({ accessories: { db: { image: 'mysql', host: '1.1.1.3' } } }), { name: 'db' }).makeDirectory('$PWD/app-db/data'),
    'mkdir -p $PWD/app-db/data',
  ],
  [
    'accessory container id',
    () => new Accessory(cfg({ accessories: { db: { image: 'mysql', host: '1.1.1.3' } } }), { name: 'db' }).containerIdFor({ containerName: 'app-db' }),
    `docker container ls --all --filter 'name=^app-db$' --quiet`,
  ],
  ['builder local create', () => new Builder(cfg()).create(), 'docker buildx create --name kamal-local-docker-container --driver=docker-container'],
  ['builder local remove', () => new Builder(cfg()).remove(), 'docker buildx rm kamal-local-docker-container'],
  ['builder local inspect', () => new Builder(cfg()).inspectBuilder(), 'docker buildx inspect kamal-local-docker-container'],
  ['builder docker driver has no builder', () => new Builder(noArch({ driver: 'docker' })).create(), 'undefined'],
  [
    'builder docker driver push',
    () => new Builder(noArch({ driver: 'docker' })).push(),
    'docker buildx build --output=type=registry -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1',
  ],
  [
    'builder push tagged dirty',
    () => new Builder(cfg()).push('docker', { tagAsDirty: true }),
    'docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service="app" --file Dockerfile . 2>&1',
  ],
  [
    'builder remote create',
    () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).create(),
    `docker context create kamal-remote-ssh---app-1-1-1-5-context --description 'kamal-remote-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5 kamal-remote-ssh---app-1-1-1-5-context`,
  ],
  [
    'builder remote remove',
    () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).remove(),
    'docker context rm kamal-remote-ssh---app-1-1-1-5-context ; docker buildx rm kamal-remote-ssh---app-1-1-1-5',
  ],
  [
    'builder remote inspect',
    () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).inspectBuilder(),
    `docker buildx inspect kamal-remote-ssh---app-1-1-1-5 | grep -q Endpoint:.*kamal-remote-ssh---app-1-1-1-5-context && docker context inspect kamal-remote-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)`,
  ],
  ['builder remote info', () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).info(), 'docker context ls ; docker buildx ls'],
  ['builder local info', () => new Builder(cfg()).info(), 'docker context ls && docker buildx ls'],
  [
    'builder cloud create',
    () => new Builder(cfg({ builder: { arch: 'amd64', driver: 'cloud org/builder' } })).create(),
    'docker buildx create --driver cloud org/builder',
  ],
  ['builder cloud remove', () => new Builder(cfg({ builder: { arch: 'amd64', driver: 'cloud org/builder' } })).remove(), 'docker buildx rm cloud-org-builder'],
  [
    'builder pack info',
    () => new Builder(cfg({ builder: { arch: 'amd64', pack: { builder: 'heroku/builder:24' } } })).info(),
    'pack builder inspect heroku/builder:24',
  ],
  ['builder clean', () => new Builder(cfg()).clean(), 'docker image rm --force dhh/app:999'],
  ['builder pull', () => new Builder(cfg()).pull(), 'docker pull dhh/app:999'],
  [
    'builder clone status',
    () => new Builder(cfg()).cloneStatus({ buildDirectory: '/tmp/kamal-clones/app-x/repo' }),
    'git -C /tmp/kamal-clones/app-x/repo status --porcelain',
  ],
  [
    'builder clone revision',
    () => new Builder(cfg()).cloneRevision({ buildDirectory: '/tmp/kamal-clones/app-x/repo' }),
    'git -C /tmp/kamal-clones/app-x/repo rev-parse HEAD',
  ],
  [
    'builder without buildx',
    () => new Builder(cfg({ builder: { arch: 'amd64', args: { A: 1 }, target: 'prod' } })).pushWithoutBuildx({ noCache: true }),
    'docker build --platform linux/amd64 -t dhh/app:999 -t dhh/app:latest --label service="app" --build-arg A="1" --file Dockerfile --target prod --no-cache . && docker push dhh/app:999 && docker push dhh/app:latest',
  ],
  [
    'builder without buildx, secrets, ssh and a context',
    () =>
      new Builder(
        cfg({ builder: { arch: 'amd64', secrets: ['PW'], ssh: 'default=$SSH_AUTH_SOCK', context: 'app', dockerfile: 'app/Dockerfile.prod' } }),
      ).pushWithoutBuildx(),
    'docker build --platform linux/amd64 -t dhh/app:999 -t dhh/app:latest --label service="app" --secret id="PW" --file app/Dockerfile.prod --ssh default="$SSH_AUTH_SOCK" app && docker push dhh/app:999 && docker push dhh/app:latest',
  ],
  [
    'builder without buildx, docker driver, no arch',
    () => new Builder(noArch({ driver: 'docker' })).pushWithoutBuildx(),
    'docker build -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . && docker push dhh/app:999 && docker push dhh/app:latest',
  ],
  [
    'builder remote without buildx',
    () => new Builder(cfg({ builder: { arch: 'amd64', local: false, remote: 'ssh://app@1.1.1.5' } })).pushWithoutBuildx(),
    'docker --context kamal-remote-ssh---app-1-1-1-5-context build --platform linux/amd64 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . && docker --context kamal-remote-ssh---app-1-1-1-5-context push dhh/app:999 && docker --context kamal-remote-ssh---app-1-1-1-5-context push dhh/app:latest',
  ],
  [
    'builder remote without buildx: context check',
    () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).fallbackPrepare()!.check,
    `docker context inspect kamal-remote-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5`,
  ],
  [
    'builder remote without buildx: context create',
    () => new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } })).fallbackPrepare()!.create,
    `docker context create kamal-remote-ssh---app-1-1-1-5-context --description 'kamal-remote-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5'`,
  ],
  [
    'builder remote without buildx: login through the context',
    () => {
      const c = cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' }, registry: { server: 'ghcr.io', username: 'dhh', password: ['PW'] } });
      return new Builder(c).fallbackLogin(new Registry(c).login()!);
    },
    'docker --context kamal-remote-ssh---app-1-1-1-5-context login ghcr.io -u "dhh" --password-stdin',
  ],
  ['builder local without buildx: login as is', () => new Builder(cfg()).fallbackLogin(new Registry(cfg()).login()!), 'docker login -u "dhh" --password-stdin'],
];

describe('commands beyond Kamal tests', () => {
  for (const [name, build, expected] of cases) {
    it(name, () => {
      const c = build();
      const actual = c === undefined ? 'undefined' : render(c);
      if (actual !== expected) expect(splitShellWords(actual)).toEqual(splitShellWords(expected));
    });
  }

  it('builder exposes push env and local login like Kamal', () => {
    const remote = new Builder(cfg({ builder: { arch: 'arm64', remote: 'ssh://app@1.1.1.5' } }));
    const local = new Builder(cfg());
    expect([remote.name, remote.loginToRegistryLocally, remote.pushEnv()]).toEqual(['remote', false, { BUILDKIT_NO_CLIENT_TOKEN: '1' }]);
    expect([local.name, local.loginToRegistryLocally, local.pushEnv()]).toEqual(['local', true, {}]);
  });

  it('says what cannot be built without buildx, naming the key', () => {
    const problem = (builder: Record<string, any>) =>
      new Builder(builder.arch === undefined ? noArch(builder) : cfg({ builder })).withoutBuildxProblem('amd64');
    expect(problem({ arch: 'amd64' })).toBeUndefined();
    expect(problem({ driver: 'docker' })).toBeUndefined();
    expect(problem({ arch: ['amd64', 'arm64'] })).toEqual([
      'builder/arch',
      'building for linux/amd64 and linux/arm64 needs docker buildx, which is not installed here (build one platform, or install the buildx plugin)',
    ]);
    expect(problem({ arch: 'arm64' })).toEqual([
      'builder/arch',
      'building for linux/arm64 on this linux/amd64 machine needs docker buildx, which is not installed here (or use builder.remote on a linux/arm64 host)',
    ]);
    expect(problem({ arch: 'arm64', remote: 'ssh://app@1.1.1.5' })).toBeUndefined();
    expect(problem({ arch: ['amd64', 'arm64'], remote: 'ssh://app@1.1.1.5' })![0]).toBe('builder/remote');
    expect(problem({ arch: ['amd64', 'arm64'], remote: 'ssh://app@1.1.1.5', local: false })![0]).toBe('builder/arch');
    expect(problem({ arch: 'amd64', driver: 'cloud org/builder' })).toEqual([
      'builder/driver',
      'cloud org/builder builds through docker buildx, which is not installed here',
    ]);
  });

  it('turns BuildKit on for the fallback only when secrets or ssh go into the build, and notes what it leaves out', () => {
    const b = (builder: Record<string, any>) => new Builder(cfg({ builder }));
    expect(b({ arch: 'amd64' }).fallbackEnv()).toEqual({});
    expect(b({ arch: 'amd64', secrets: ['PW'] }).fallbackEnv()).toEqual({ DOCKER_BUILDKIT: '1' });
    expect(b({ arch: 'amd64', ssh: 'default' }).fallbackEnv()).toEqual({ DOCKER_BUILDKIT: '1' });
    expect(b({ arch: 'amd64' }).withoutBuildxNotes()).toEqual([]);
    expect(b({ arch: 'amd64', cache: { type: 'gha' }, provenance: false }).withoutBuildxNotes()).toEqual([
      'builder.cache (gha) needs docker buildx: building without reading or exporting the cache',
      'builder.provenance needs docker buildx: no provenance attestation is attached',
    ]);
  });

  it('build args display redacted, render as given', () => {
    const push = new Builder(cfg({ builder: { arch: 'amd64', args: { TOKEN: 'abc123' } } })).push();
    expect(display(push)).toContain('--build-arg TOKEN="[REDACTED]"');
    expect(render(push)).toContain('--build-arg TOKEN="abc123"');
  });

  it('registry login displays no credentials', () => {
    const login = new Registry(cfg({ registry: { server: 'ghcr.io', username: 'dhh', password: ['PW'] } })).login()!;
    expect(display(login)).toBe('docker login ghcr.io -u "dhh" --password-stdin');
  });
});
