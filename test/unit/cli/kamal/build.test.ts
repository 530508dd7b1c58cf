/**
 * Kamal 2.12's test/cli/build_test.rb, run through our CLI (`kamal-action build ...`) with
 * recording runners: the same invocation on an equivalent config runs the same commands, on
 * the same hosts, in the same order. Remote answers Kamal stubs (capture_with_info, failing
 * executes) are scripted by a responder.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/cli/run.js';
import { MemoryReporter } from '../../../../src/engine/reporter.js';
import { RecordingRunner, type RecordedCommand, type ScriptedResponse } from '../../../../test/support/recording.js';
import { copyFixture, testEnv, words } from '../helpers.js';

const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
const OTHER_ARCH = ARCH === 'arm64' ? 'amd64' : 'arm64';

// ---- configurations equivalent to Kamal's test/fixtures/deploy_*.yml ----

const SERVERS = `servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.3"
    - "1.1.1.4"
`;

const ACCESSORIES = `accessories:
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
      - config/mysql/production.cnf:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
`;

const REGISTRY = `registry:
  username: user
  password: pw
`;

const withBuilder = (builder: string, extra = '') =>
  `service: app\nimage: dhh/app\n${SERVERS}${REGISTRY}${ACCESSORIES}readiness_delay: 0\n${extra}builder:\n${builder}`;

const WEB_ONLY = `service: app
image: dhh/app
servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
registry:
  server: localhost:5000
`;

const FIXTURES = {
  with_accessories: withBuilder('  arch: amd64\n'),
  with_remote_builder: withBuilder(`  arch: ${OTHER_ARCH}\n  remote: ssh://app@1.1.1.5\n`),
  with_remote_builder_and_custom_ports: withBuilder(`  arch: ${OTHER_ARCH}\n  remote: ssh://app@1.1.1.5:2122\n`, 'ssh:\n  user: root\n  port: 22\n'),
  with_hybrid_builder: withBuilder('  arch:\n    - arm64\n    - amd64\n  remote: ssh://app@1.1.1.5\n'),
  with_cloud_builder: withBuilder(`  arch: ${OTHER_ARCH}\n  driver: cloud example_org/cloud_builder\n`),
  without_clone: withBuilder('  arch: amd64\n  context: "."\n'),
  with_local_registry: `${WEB_ONLY}builder:\n  arch: amd64\n`,
  with_local_registry_and_remote_builder: `${WEB_ONLY}builder:\n  arch: ${OTHER_ARCH}\n  remote: ssh://app@1.1.1.5\n`,
  with_local_registry_and_remote_builder_with_port: `${WEB_ONLY}builder:\n  arch: ${OTHER_ARCH}\n  remote: ssh://app@1.1.1.5:2222\n`,
  with_local_registry_and_hybrid_builder: `${WEB_ONLY}builder:\n  arch:\n    - amd64\n    - arm64\n  remote: ssh://app@1.1.1.5\n`,
  with_local_registry_and_accessories: `service: app
image: dhh/app
${SERVERS}registry:
  server: localhost:5000
builder:
  arch: amd64
${ACCESSORIES}  busybox:
    service: custom-box
    image: busybox:latest
    host: 1.1.1.3
    registry:
      server: other.registry
      username: other_user
      password: other_pw
readiness_delay: 0
`,
} as const;

type Fixture = keyof typeof FIXTURES;

// ---- running the CLI ----

const cloneDirs: string[] = [];
afterAll(() => {
  for (const d of cloneDirs) rmSync(d, { recursive: true, force: true });
});

interface Options {
  fixture?: Fixture;
  /** Hooks present (Kamal stubs hook_exists? to true). */
  hooks?: string[];
  /** Make the app folder a git checkout with one commit (Kamal's tests run inside its own repository). */
  git?: boolean;
  respond?: (host: string, command: string) => ScriptedResponse | undefined;
}

interface Run {
  exitCode: number;
  error: unknown;
  err: string;
  /** Every command, app folder shown as `<app>`. */
  transcript: RecordedCommand[];
  /** The local commands, in order. */
  local: string[];
  messages: { level: string; message: string }[];
  text: string;
  revision: string;
  /** `<tmpdir>/kamal-clones/app-<sha>` and the build directory inside it. */
  cloneDirectory: string;
  buildDirectory: string;
}

const DEFAULT_MIRROR_ERROR: ScriptedResponse = {
  exitCode: 1,
  stderr: 'template: :1:2: executing "" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range\n',
};

async function build(args: string[], o: Options = {}): Promise<Run> {
  const dir = copyFixture();
  writeFileSync(join(dir, 'config/deploy.yml'), FIXTURES[o.fixture ?? 'with_accessories']);
  for (const hook of o.hooks ?? []) {
    const file = join(dir, '.kamal/hooks', hook);
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
  }
  let revision = '';
  if (o.git) {
    const g = (...a: string[]) =>
      execFileSync('git', a, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    g('init', '-q');
    g('add', '.');
    g('-c', 'user.email=dev@example.com', '-c', 'user.name=Dev', 'commit', '-qm', 'app');
    revision = g('rev-parse', 'HEAD');
  }
  const cloneDirectory = join(tmpdir(), 'kamal-clones', `app-${createHash('sha256').update(dir).digest('hex').slice(0, 13)}`);
  cloneDirs.push(cloneDirectory);
  const runner = new RecordingRunner((host, command) => {
    const scripted = o.respond?.(host, command);
    if (scripted) return scripted;
    if (host === 'local' && / rev-parse HEAD$/.test(command)) return { stdout: `${revision}\n` };
    return undefined;
  });
  const reporter = new MemoryReporter();
  let err = '';
  const result = await runCli(['build', ...args], {
    cwd: dir,
    env: { ...testEnv(), VERSION: '999' },
    runner,
    local: runner,
    reporter,
    out: () => undefined,
    err: (s) => (err += s),
  });
  const transcript = runner.transcript.map((c) => ({ ...c, command: c.command.split(dir).join('<app>') }));
  return {
    exitCode: result.exitCode,
    error: result.error,
    err,
    transcript,
    local: transcript.filter((c) => c.host === 'local').map((c) => c.command),
    messages: reporter.messages,
    text: reporter.text,
    revision,
    cloneDirectory,
    buildDirectory: `${cloneDirectory}/${basename(dir)}/`,
  };
}

const hook = (name: string) => `<app>/.kamal/hooks/${name}`;
const said = (r: Run) => r.messages.map((m) => m.message);
const commandsOn = (r: Run, host: string) => r.transcript.filter((c) => c.host === host).map((c) => c.command);
const envOf = (r: Run, command: string) => r.transcript.find((c) => c.host === 'local' && c.command === command)?.env;

// ---- Kamal's expected commands ----

/** Kamal: `docker --version && docker buildx version`; we check both separately, to fall back without buildx (the todo in plan-deploy.test.ts). */
const DOCKER_CHECK = ['docker version', 'docker buildx version'];
const LOGIN = 'docker login -u "user" --password-stdin';
const LOCAL_REGISTRY_SETUP = 'docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3';
const MIRROR = "docker info --format '{{index .RegistryConfig.Mirrors 0}}'";
const VALIDATE =
  "docker inspect -f '{{ .Config.Labels.service }}' dhh/app:999 | grep -x app || (echo \"Image dhh/app:999 is missing the 'service' label\" && exit 1)";
const REMOTE = 'kamal-remote-ssh---app-1-1-1-5';

function buildx(o: { output?: string; platform?: string; builder?: string; image?: string; dirty?: boolean; noCache?: boolean } = {}): string {
  const image = o.image ?? 'dhh/app';
  const tag = (t: string) => `${image}:${t}${o.dirty ? '-dirty' : ''}`;
  return (
    `docker buildx build --output=type=${o.output ?? 'registry'} --platform ${o.platform ?? 'linux/amd64'} ` +
    `--builder ${o.builder ?? 'kamal-local-docker-container'} -t ${tag('999')} -t ${tag('latest')} --label service="app" --file Dockerfile` +
    `${o.noCache ? ' --no-cache' : ''} . 2>&1`
  );
}

function cloneCommands(r: Run): { clone: string; status: string; revision: string; reset: string[] } {
  const bd = r.buildDirectory;
  return {
    clone: `git -C ${r.cloneDirectory} clone <app> --recurse-submodules`,
    status: `git -C ${bd} status --porcelain`,
    revision: `git -C ${bd} rev-parse HEAD`,
    reset: [
      `git -C ${bd} remote set-url origin <app>`,
      `git -C ${bd} fetch origin`,
      `git -C ${bd} reset --hard ${r.revision}`,
      `git -C ${bd} clean -fdx`,
      `git -C ${bd} submodule update --init`,
      `git -C ${bd} gc --auto --quiet`,
    ],
  };
}

const ALREADY_EXISTS: ScriptedResponse = { exitCode: 1, stderr: "fatal: destination path 'kamal' already exists and is not an empty directory\n" };

describe('kamal build (test/cli/build_test.rb)', () => {
  it('deliver', async () => {
    const r = await build(['deliver'], { git: true });
    expect(r.exitCode).toBe(0);
    // push, then pull: the build runs before anything on the servers
    const pushed = r.transcript.findIndex((c) => c.host === 'local' && c.command === buildx());
    expect(pushed).toBeGreaterThan(0);
    const firstRemote = r.transcript.findIndex((c) => c.host !== 'local');
    expect(firstRemote).toBeGreaterThan(pushed);
    for (const host of ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']) {
      expect(commandsOn(r, host).filter((c) => !c.startsWith('mkdir -p .kamal &&'))).toEqual([
        LOGIN,
        MIRROR,
        'docker image rm --force dhh/app:999',
        'docker pull dhh/app:999',
        VALIDATE,
      ]);
    }
  });

  it('push', async () => {
    const r = await build(['push', '--verbose'], { git: true, hooks: ['pre-connect', 'pre-build'] });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    expect(r.local).toEqual([
      hook('pre-connect'),
      ...DOCKER_CHECK,
      LOGIN,
      hook('pre-build'),
      c.clone,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-docker-container',
      buildx(),
    ]);
    expect(said(r)).toContain(`Cloning repo into build directory \`${r.buildDirectory}\`...`);
    expect(r.transcript.every((t) => t.host === 'local')).toBe(true);
  });

  it('push with remote builder checks both the builder and the remote context', async () => {
    const r = await build(['push', '--verbose'], { git: true, fixture: 'with_remote_builder', hooks: ['pre-connect', 'pre-build'] });
    expect(r.exitCode).toBe(0);
    expect(r.local.some((c) => c.startsWith('docker login'))).toBe(false);
    expect(r.local.slice(0, 4)).toEqual([hook('pre-connect'), ...DOCKER_CHECK, hook('pre-build')]);
    expect(r.local).toHaveLength(9);
    const inspect =
      `docker buildx inspect ${REMOTE} | grep -q Endpoint:.*${REMOTE}-context && docker context inspect ${REMOTE}-context ` +
      `--format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)`;
    // we single-quote the grep pattern (it holds `*`): the same words
    expect(words(r.local.at(-2)!)).toEqual(words(inspect));
    const push = buildx({ platform: `linux/${OTHER_ARCH}`, builder: REMOTE });
    expect(r.local.at(-1)).toBe(push);
    expect(envOf(r, push)).toEqual({ BUILDKIT_NO_CLIENT_TOKEN: '1' });
  });

  for (const [name, fixture, builder, platform] of [
    ['remote', 'with_local_registry_and_remote_builder', `${REMOTE}-local-registry`, `linux/${OTHER_ARCH}`],
    ['hybrid', 'with_local_registry_and_hybrid_builder', 'kamal-hybrid-docker-container-ssh---app-1-1-1-5-local-registry', 'linux/amd64,linux/arm64'],
  ] as const) {
    it(`push with ${name} builder and local registry starts the local registry container`, async () => {
      const r = await build(['push', '--verbose'], { git: true, fixture, hooks: ['pre-connect', 'pre-build'] });
      expect(r.exitCode).toBe(0);
      const push = buildx({ platform, builder, image: 'localhost:5000/dhh/app' });
      // the local registry runs before the build, docker login is not run locally
      expect(r.local.indexOf(LOCAL_REGISTRY_SETUP)).toBeGreaterThan(0);
      expect(r.local.indexOf(LOCAL_REGISTRY_SETUP)).toBeLessThan(r.local.indexOf(push));
      expect(r.local.some((c) => c.startsWith('docker login'))).toBe(false);
      expect(envOf(r, push)).toEqual({ BUILDKIT_NO_CLIENT_TOKEN: '1' });
      // PortForwarding.new([ "1.1.1.5" ], 5000, ...) around the build: the remote builder pushes through it
      const t = r.transcript.map((x) => `${x.host}: ${x.command}`);
      const forward = t.indexOf('app@1.1.1.5: forward 127.0.0.1:5000 to localhost:5000');
      expect(forward).toBeGreaterThan(t.indexOf(`local: ${LOCAL_REGISTRY_SETUP}`));
      expect(forward).toBeLessThan(t.indexOf(`local: ${push}`));
      expect(t.indexOf('app@1.1.1.5: unforward 127.0.0.1:5000')).toBeGreaterThan(t.indexOf(`local: ${push}`));
      expect(r.transcript.filter((x) => x.host !== 'local').map((x) => x.host)).toEqual(['app@1.1.1.5', 'app@1.1.1.5']);
    });
  }

  it('push --output=docker', async () => {
    const r = await build(['push', '--output=docker', '--verbose'], { git: true, hooks: ['pre-connect', 'pre-build'] });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    expect(r.local).toEqual([
      hook('pre-connect'),
      ...DOCKER_CHECK,
      LOGIN,
      hook('pre-build'),
      c.clone,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-docker-container',
      buildx({ output: 'docker' }),
    ]);
    expect(said(r)).toContain(`Cloning repo into build directory \`${r.buildDirectory}\`...`);
  });

  it('push resetting clone', async () => {
    let clones = 0;
    const r = await build(['push', '--verbose'], {
      git: true,
      respond: (host, command) => (host === 'local' && / clone /.test(command) && clones++ === 0 ? ALREADY_EXISTS : undefined),
    });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    expect(r.local).toEqual([
      ...DOCKER_CHECK,
      LOGIN,
      c.clone,
      ...c.reset,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-docker-container',
      buildx(),
    ]);
    expect(said(r)).toEqual(
      expect.arrayContaining([
        `Cloning repo into build directory \`${r.buildDirectory}\`...`,
        `Resetting local clone as \`${r.buildDirectory}\` already exists...`,
      ]),
    );
  });

  it('push without clone', async () => {
    const r = await build(['push', '--verbose'], { git: true, fixture: 'without_clone', hooks: ['pre-connect', 'pre-build'] });
    expect(r.exitCode).toBe(0);
    expect(said(r).some((m) => m.startsWith('Cloning repo into build directory'))).toBe(false);
    expect(r.local).toEqual([hook('pre-connect'), ...DOCKER_CHECK, LOGIN, hook('pre-build'), 'docker buildx inspect kamal-local-docker-container', buildx()]);
  });

  it('push with no-cache', async () => {
    const r = await build(['push', '--no-cache', '--verbose'], { git: true, fixture: 'without_clone', hooks: ['pre-connect', 'pre-build'] });
    expect(r.exitCode).toBe(0);
    expect(r.local).toEqual([
      hook('pre-connect'),
      ...DOCKER_CHECK,
      LOGIN,
      hook('pre-build'),
      'docker buildx inspect kamal-local-docker-container',
      buildx({ noCache: true }),
    ]);
  });

  it('push with corrupt clone', async () => {
    let clones = 0;
    const r = await build(['push', '--verbose'], {
      git: true,
      respond: (host, command) => {
        if (host !== 'local') return undefined;
        if (/ clone /.test(command) && clones++ === 0) return ALREADY_EXISTS;
        if (/ remote set-url origin /.test(command)) return { exitCode: 128, stderr: 'fatal: not a git repository\n' };
        return undefined;
      },
    });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    // the clone is tried twice: after the failed reset, the clone directory is deleted and cloned again
    expect(r.local).toEqual([
      ...DOCKER_CHECK,
      LOGIN,
      c.clone,
      c.reset[0],
      c.clone,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-docker-container',
      buildx(),
    ]);
    const cloning = `Cloning repo into build directory \`${r.buildDirectory}\`...`;
    expect(said(r).filter((m) => m === cloning)).toHaveLength(2);
    expect(said(r)).toContain(`Resetting local clone as \`${r.buildDirectory}\` already exists...`);
    const error = r.messages.find((m) => m.message.startsWith('Error preparing clone: '));
    expect(error?.level).toBe('error');
    expect(error?.message).toMatch(/^Error preparing clone: Failed to clone repo: .*\n?.*fatal: not a git repository, deleting and retrying\.\.\.$/s);
    // the error comes between the reset attempt and the second clone
    const order = said(r).filter((m) => m === cloning || m.startsWith('Resetting') || m.startsWith('Error preparing'));
    expect(order.map((m) => m.split(' ')[0])).toEqual(['Cloning', 'Resetting', 'Error', 'Cloning']);
  });

  it('push without builder for local registry', async () => {
    const r = await build(['push'], {
      git: true,
      fixture: 'with_local_registry_and_accessories',
      respond: (host, command) =>
        command === 'docker buildx inspect kamal-local-registry-docker-container'
          ? { exitCode: 1, stderr: 'ERROR: no builder "kamal-local-registry-docker-container" found\n' }
          : undefined,
    });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    expect(r.local).toEqual([
      ...DOCKER_CHECK,
      LOCAL_REGISTRY_SETUP,
      c.clone,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-registry-docker-container',
      'docker buildx rm kamal-local-registry-docker-container',
      'docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host',
      buildx({ builder: 'kamal-local-registry-docker-container', image: 'localhost:5000/dhh/app' }),
    ]);
    expect(r.messages).toContainEqual({ level: 'warn', message: 'Missing compatible builder, so creating a new one first' });
    expect(r.transcript.every((t) => t.host === 'local')).toBe(true);
  });

  it('push without builder', async () => {
    const r = await build(['push'], {
      git: true,
      respond: (host, command) =>
        command === 'docker buildx inspect kamal-local-docker-container'
          ? { exitCode: 1, stderr: 'ERROR: no builder "kamal-local-docker-container" found\n' }
          : undefined,
    });
    expect(r.exitCode).toBe(0);
    const c = cloneCommands(r);
    expect(r.local).toEqual([
      ...DOCKER_CHECK,
      LOGIN,
      c.clone,
      c.status,
      c.revision,
      'docker buildx inspect kamal-local-docker-container',
      'docker buildx rm kamal-local-docker-container',
      'docker buildx create --name kamal-local-docker-container --driver=docker-container',
      buildx(),
    ]);
    expect(r.messages).toContainEqual({ level: 'warn', message: 'Missing compatible builder, so creating a new one first' });
  });

  it('push with no buildx plugin (falls back to docker build + docker push, see DIFFERENCES.md)', async () => {
    // Kamal raises Kamal::Cli::DependencyError; this project builds with plain docker instead
    const r = await build(['push'], {
      fixture: 'without_clone',
      respond: (host, command) => (command === 'docker buildx version' ? { exitCode: 1, stderr: "docker: 'buildx' is not a docker command.\n" } : undefined),
    });
    if (ARCH !== 'amd64') {
      // the fixture builds linux/amd64: without buildx that needs an amd64 machine
      expect(r.exitCode).toBe(1);
      expect(r.err).toContain('builder/arch:');
      expect(r.local).toEqual(DOCKER_CHECK);
      return;
    }
    expect(r.exitCode).toBe(0);
    expect(r.local).toEqual([
      ...DOCKER_CHECK,
      LOGIN,
      'docker build --platform linux/amd64 -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . && docker push dhh/app:999 && docker push dhh/app:latest',
    ]);
    expect(r.local.some((c) => c.startsWith('docker buildx build'))).toBe(false);
  });

  it('push pre-build hook failure', async () => {
    const r = await build(['push'], {
      git: true,
      hooks: ['pre-connect', 'pre-build'],
      respond: (host, command) => (command.endsWith('/.kamal/hooks/pre-build') ? { exitCode: 1, stderr: 'failed\n' } : undefined),
    });
    expect(r.exitCode).toBe(1);
    expect((r.error as Error).name).toBe('HookError');
    expect((r.error as Error).message).toMatch(/^Hook `pre-build` failed:\n(.|\n)*failed$/);
    expect(r.local).toEqual([hook('pre-connect'), ...DOCKER_CHECK, LOGIN, hook('pre-build')]);
    expect(r.transcript.some((c) => /^docker (buildx )?build /.test(c.command))).toBe(false);
  });

  it('pull', async () => {
    const r = await build(['pull'], { respond: (_host, command) => (command === MIRROR ? DEFAULT_MIRROR_ERROR : undefined) });
    expect(r.exitCode).toBe(0);
    expect(r.local).toEqual([]);
    for (const host of ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']) {
      expect(commandsOn(r, host).filter((c) => !c.startsWith('mkdir -p .kamal &&'))).toEqual([
        LOGIN,
        MIRROR,
        'docker image rm --force dhh/app:999',
        'docker pull dhh/app:999',
        VALIDATE,
      ]);
      expect(commandsOn(r, host).filter((c) => c.startsWith('mkdir -p .kamal &&'))).toEqual([
        expect.stringMatching(/^mkdir -p \.kamal && echo "\[[^\]]+\] \[[^\]]+\] Pulled image with version 999" >> \.kamal\/app-audit\.log$/),
      ]);
    }
    // the accessory-only host runs nothing
    expect(r.transcript.some((c) => !['local', '1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'].includes(c.host))).toBe(false);
  });

  it('pull with mirror', async () => {
    const r = await build(['pull'], { respond: (_host, command) => (command === MIRROR ? { stdout: 'registry-mirror.example.com\n' } : undefined) });
    expect(r.exitCode).toBe(0);
    const seed = said(r).find((m) => /^Pulling image on 1\.1\.1\.\d to seed the mirror\.\.\.$/.test(m));
    expect(seed).toBeDefined();
    expect(said(r)).toContain('Pulling image on remaining hosts...');
    const pulls = r.transcript.filter((c) => c.command === 'docker pull dhh/app:999');
    expect(pulls).toHaveLength(4);
    // the seeding host pulls (and validates) before the remaining ones start
    const seedHost = seed!.split(' ')[3]!;
    expect(pulls[0]!.host).toBe(seedHost);
    const seedValidated = r.transcript.findIndex((c) => c.host === seedHost && c.command === VALIDATE);
    const otherPulls = r.transcript.map((c, i) => (c.host !== seedHost && c.command === 'docker pull dhh/app:999' ? i : -1)).filter((i) => i >= 0);
    expect(otherPulls).toHaveLength(3);
    expect(Math.min(...otherPulls)).toBeGreaterThan(seedValidated);
    expect(r.transcript.filter((c) => c.command === VALIDATE)).toHaveLength(4);
  });

  it('pull with mirrors', async () => {
    // mocha's .returns(a, b): the first capture answers a, every later one b
    let calls = 0;
    const r = await build(['pull'], {
      respond: (_host, command) =>
        command === MIRROR ? { stdout: calls++ === 0 ? 'registry-mirror.example.com\n' : 'registry-mirror2.example.com\n' } : undefined,
    });
    expect(r.exitCode).toBe(0);
    expect(said(r).some((m) => /^Pulling image on 1\.1\.1\.\d, 1\.1\.1\.\d to seed the mirrors\.\.\.$/.test(m))).toBe(true);
    expect(said(r)).toContain('Pulling image on remaining hosts...');
    expect(r.transcript.filter((c) => c.command === 'docker pull dhh/app:999')).toHaveLength(4);
    expect(r.transcript.filter((c) => c.command === VALIDATE)).toHaveLength(4);
  });

  it('create', async () => {
    const r = await build(['create']);
    expect(r.exitCode).toBe(0);
    expect(r.transcript).toEqual([{ host: 'local', command: 'docker buildx create --name kamal-local-docker-container --driver=docker-container' }]);
  });

  for (const [name, fixture, host, builder, remote] of [
    ['create remote', 'with_remote_builder', 'app@1.1.1.5', REMOTE, 'ssh://app@1.1.1.5'],
    ['create remote with custom ports', 'with_remote_builder_and_custom_ports', 'app@1.1.1.5:2122', `${REMOTE}-2122`, 'ssh://app@1.1.1.5:2122'],
  ] as const) {
    it(name, async () => {
      const r = await build(['create'], { fixture });
      expect(r.exitCode).toBe(0);
      // connect_to_remote_host: `true` on the builder host first
      expect(r.transcript[0]).toEqual({ host, command: 'true' });
      expect(r.local).toHaveLength(1);
      expect(words(r.local[0]!)).toEqual(
        words(
          `docker context create ${builder}-context --description '${builder} host' --docker 'host=${remote}' ; ` +
            `docker buildx create --name ${builder} ${builder}-context`,
        ),
      );
      expect(r.transcript).toHaveLength(2);
    });
  }

  it('create hybrid', async () => {
    const r = await build(['create'], { fixture: 'with_hybrid_builder' });
    expect(r.exitCode).toBe(0);
    const name = 'kamal-hybrid-docker-container-ssh---app-1-1-1-5';
    expect(r.transcript[0]).toEqual({ host: 'app@1.1.1.5', command: 'true' });
    expect(r.local).toHaveLength(1);
    expect(words(r.local[0]!)).toEqual(
      words(
        `docker buildx create --platform linux/${ARCH} --name ${name} --driver=docker-container && ` +
          `docker context create ${name}-context --description '${name} host' --docker 'host=ssh://app@1.1.1.5' && ` +
          `docker buildx create --platform linux/${OTHER_ARCH} --append --name ${name} ${name}-context`,
      ),
    );
  });

  it('create cloud', async () => {
    const r = await build(['create'], { fixture: 'with_cloud_builder' });
    expect(r.exitCode).toBe(0);
    expect(r.transcript).toEqual([{ host: 'local', command: 'docker buildx create --driver cloud example_org/cloud_builder' }]);
  });

  it('create with error', async () => {
    const r = await build(['create'], {
      respond: (host, command) => (host === 'local' && command.startsWith('docker ') ? { exitCode: 1, stderr: 'error\n' } : undefined),
    });
    // Kamal says this and, with a real SSHKit failure (no `stderr=` in its message), raises: the run fails
    expect(r.exitCode).toBe(1);
    expect(r.local).toEqual(['docker buildx create --name kamal-local-docker-container --driver=docker-container']);
    expect(r.messages).toContainEqual({ level: 'error', message: "Couldn't create remote builder: error" });
  });

  it('remove', async () => {
    const r = await build(['remove']);
    expect(r.exitCode).toBe(0);
    expect(r.transcript).toEqual([{ host: 'local', command: 'docker buildx rm kamal-local-docker-container' }]);
  });

  it('remove cloud', async () => {
    const r = await build(['remove'], { fixture: 'with_cloud_builder' });
    expect(r.exitCode).toBe(0);
    expect(r.transcript).toEqual([{ host: 'local', command: 'docker buildx rm cloud-example_org-cloud_builder' }]);
  });

  it('details', async () => {
    const r = await build(['details'], {
      respond: (_host, command) => (command === 'docker context ls && docker buildx ls' ? { stdout: 'docker builder info' } : undefined),
    });
    expect(r.exitCode).toBe(0);
    expect(r.local).toEqual(['docker context ls && docker buildx ls']);
    expect(r.text).toMatch(/Builder: local\n/);
    expect(r.text).toContain('docker builder info');
    expect(r.text.indexOf('Builder: local')).toBeLessThan(r.text.indexOf('docker builder info'));
  });

  for (const [name, args, expected] of [
    ['dev', ['dev', '--verbose'], buildx({ output: 'docker', dirty: true })],
    ['dev --output=local', ['dev', '--output=local', '--verbose'], buildx({ output: 'local', dirty: true })],
    ['dev with no-cache', ['dev', '--no-cache', '--verbose'], buildx({ output: 'docker', dirty: true, noCache: true })],
  ] as const) {
    it(name, async () => {
      const r = await build([...args], { git: true, hooks: ['pre-connect', 'pre-build'] });
      expect(r.exitCode).toBe(0);
      expect(said(r).some((m) => m.startsWith('Cloning repo into build directory'))).toBe(false);
      // Kamal::Docker.included_files builds and runs a throwaway image listing the build context, then the dirty build
      expect(r.local).toEqual([
        ...DOCKER_CHECK,
        expect.stringMatching(/^docker buildx build -t=kamal-local-build-check -f=\S+ \.$/),
        'docker run --rm kamal-local-build-check',
        expected,
      ]);
      expect(r.transcript.every((t) => t.host === 'local')).toBe(true);
    });
  }

  it('create with local registry', async () => {
    const r = await build(['create'], { fixture: 'with_local_registry' });
    expect(r.exitCode).toBe(0);
    expect(r.transcript).toEqual([
      { host: 'local', command: 'docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host' },
    ]);
  });

  for (const [name, fixture, host, builder] of [
    ['create with local registry and remote builder', 'with_local_registry_and_remote_builder', 'app@1.1.1.5', `${REMOTE}-local-registry`],
    [
      'create with local registry and remote builder with custom port',
      'with_local_registry_and_remote_builder_with_port',
      'app@1.1.1.5:2222',
      `${REMOTE}-2222-local-registry`,
    ],
  ] as const) {
    it(name, async () => {
      const r = await build(['create'], { fixture });
      expect(r.exitCode).toBe(0);
      expect(r.transcript[0]).toEqual({ host, command: 'true' });
      expect(r.local).toHaveLength(1);
      const [, buildxCreate] = r.local[0]!.split(' ; ');
      expect(buildxCreate).toBe(`docker buildx create --name ${builder} --driver-opt network=host ${builder}-context`);
    });
  }

  it('pull with local registry', async () => {
    const r = await build(['pull'], { fixture: 'with_local_registry', respond: (_host, command) => (command === MIRROR ? DEFAULT_MIRROR_ERROR : undefined) });
    expect(r.exitCode).toBe(0);
    for (const host of ['1.1.1.1', '1.1.1.2']) {
      const cmds = commandsOn(r, host).filter((c) => !c.startsWith('mkdir -p .kamal &&'));
      // no registry login for a local registry; the pulls go through the port forwarded to each host
      expect(cmds).toEqual([
        'forward 127.0.0.1:5000 to localhost:5000',
        MIRROR,
        'docker image rm --force localhost:5000/dhh/app:999',
        'docker pull localhost:5000/dhh/app:999',
        VALIDATE.replaceAll('dhh/app:999', 'localhost:5000/dhh/app:999'),
        'unforward 127.0.0.1:5000',
      ]);
    }
    expect(said(r)).toContain('Setting up local registry port forwarding to 1.1.1.1, 1.1.1.2...');
  });
});
