/**
 * `build push` on a machine without docker buildx: the local commands run,
 * in order, for the local and the remote builder, the environment the build
 * gets (BuildKit only for secrets), the checks that refuse what cannot be
 * built without buildx before anything is built, and the BuildKit error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner, type ScriptedResponse } from '../../../test/support/recording.js';
import { FIXTURE_SECRETS, STACK_FRAME, copyApp, removeDirs, testEnv } from '../reliability/fleet.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

const REMOTE_CONTEXT = 'kamal-remote-ssh---deploy-10-0-0-9-context';

async function buildPush(builder: string, respond: (command: string) => ScriptedResponse | undefined = () => undefined) {
  const dir = copyApp(dirs);
  const file = join(dir, 'config/deploy.yml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('builder:\n  arch: amd64\n', `builder:\n${builder}`));
  const runner = new RecordingRunner((host, command) => {
    if (host !== 'local') return undefined;
    if (command === 'docker buildx version') return { exitCode: 1, stderr: "docker: 'buildx' is not a docker command.\n" };
    return respond(command);
  });
  const reporter = new MemoryReporter();
  let out = '';
  let err = '';
  const result = await runCli(['build', 'push', '--version', 'v9'], {
    cwd: dir,
    env: testEnv(),
    out: (s) => (out += s),
    err: (s) => (err += s),
    runner,
    local: runner,
    reporter,
  });
  const local = runner.transcript.filter((c) => c.host === 'local');
  return {
    result,
    out,
    err,
    log: reporter.messages.map((m) => m.message).join('\n') + reporter.text,
    commands: local.map((c) => c.command),
    envs: local.map((c) => c.env ?? {}),
  };
}

const IMAGE = 'registry.example.com/acme/app';

describe('build push without buildx', () => {
  it('builds with docker build for the local platform, then pushes both tags', async () => {
    const r = await buildPush('  arch: amd64\n  args:\n    RUBY_VERSION: 3.3.0\n  target: production\n  dockerfile: Dockerfile\n');
    expect(r.result.exitCode).toBe(0);
    expect(r.commands).toEqual([
      'docker version',
      'docker buildx version',
      'docker login registry.example.com -u "deployer" --password-stdin',
      `docker build --platform linux/amd64 -t ${IMAGE}:v9 -t ${IMAGE}:latest --label service="app" --build-arg RUBY_VERSION="[REDACTED]" --file Dockerfile --target production . && docker push ${IMAGE}:v9 && docker push ${IMAGE}:latest`,
    ]);
    expect(r.envs[3]).not.toHaveProperty('DOCKER_BUILDKIT');
    expect(r.log).toContain('docker buildx is not available here: building with `docker build`, then `docker push`');
  });

  it('passes builder secrets by name, with their values only in the build environment and BuildKit on', async () => {
    const r = await buildPush('  arch: amd64\n  secrets:\n    - RAILS_MASTER_KEY\n');
    expect(r.result.exitCode).toBe(0);
    const build = r.commands.findIndex((c) => c.startsWith('docker build '));
    expect(r.commands[build]).toBe(
      `docker build --platform linux/amd64 -t ${IMAGE}:v9 -t ${IMAGE}:latest --label service="app" --secret id="RAILS_MASTER_KEY" --file Dockerfile . && docker push ${IMAGE}:v9 && docker push ${IMAGE}:latest`,
    );
    expect(r.envs[build]).toMatchObject({ RAILS_MASTER_KEY: 'master-key-7d41e0b2', DOCKER_BUILDKIT: '1' });
    for (const secret of FIXTURE_SECRETS) expect(r.out + r.err + r.log).not.toContain(secret);
  });

  it('explains a docker client that cannot use BuildKit for build secrets', async () => {
    const r = await buildPush('  arch: amd64\n  secrets:\n    - RAILS_MASTER_KEY\n', (c) =>
      c.startsWith('docker build ')
        ? {
            exitCode: 1,
            stderr:
              'ERROR: BuildKit is enabled but the buildx component is missing or broken.\n       Install the buildx component to build images with BuildKit:\n',
          }
        : undefined,
    );
    expect(r.result.exitCode).toBe(1);
    expect(r.err).toContain(
      'builder/secrets: passing build secrets into the build needs BuildKit; this docker client has neither the buildx plugin nor BuildKit built in (install docker buildx)',
    );
    expect(r.err).not.toMatch(STACK_FRAME);
    for (const secret of FIXTURE_SECRETS) expect(r.out + r.err + r.log).not.toContain(secret);
  });

  it('builds on the remote host through the docker context Kamal creates, logging in through it', async () => {
    const r = await buildPush('  arch: amd64\n  local: false\n  remote: ssh://deploy@10.0.0.9\n', (c) =>
      c.startsWith('docker context inspect') ? { exitCode: 1, stderr: `context "${REMOTE_CONTEXT}" does not exist\n` } : undefined,
    );
    expect(r.result.exitCode).toBe(0);
    expect(r.commands).toEqual([
      'docker version',
      'docker buildx version',
      `docker context inspect ${REMOTE_CONTEXT} --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://deploy@10.0.0.9`,
      `docker context create ${REMOTE_CONTEXT} --description 'kamal-remote-ssh---deploy-10-0-0-9 host' --docker host=ssh://deploy@10.0.0.9`,
      `docker --context ${REMOTE_CONTEXT} login registry.example.com -u "deployer" --password-stdin`,
      `docker --context ${REMOTE_CONTEXT} build --platform linux/amd64 -t ${IMAGE}:v9 -t ${IMAGE}:latest --label service="app" --file Dockerfile . && docker --context ${REMOTE_CONTEXT} push ${IMAGE}:v9 && docker --context ${REMOTE_CONTEXT} push ${IMAGE}:latest`,
    ]);
  });

  it('reuses an existing remote context', async () => {
    const r = await buildPush('  arch: amd64\n  local: false\n  remote: ssh://deploy@10.0.0.9\n');
    expect(r.result.exitCode).toBe(0);
    expect(r.commands.some((c) => c.startsWith('docker context create'))).toBe(false);
  });

  it('says once what it builds without (the cache), and builds', async () => {
    const r = await buildPush('  arch: amd64\n  cache:\n    type: gha\n');
    expect(r.result.exitCode).toBe(0);
    expect(r.log.split('builder.cache (gha) needs docker buildx: building without reading or exporting the cache').length).toBe(2);
    expect(r.commands.at(-1)).not.toContain('cache');
  });

  for (const [name, builder, message] of [
    [
      'two platforms',
      '  arch:\n    - amd64\n    - arm64\n',
      'builder/arch: building for linux/amd64 and linux/arm64 needs docker buildx, which is not installed here (build one platform, or install the buildx plugin)',
    ],
    [
      'another platform',
      '  arch: arm64\n',
      'builder/arch: building for linux/arm64 on this linux/amd64 machine needs docker buildx, which is not installed here (or use builder.remote on a linux/arm64 host)',
    ],
    [
      'a hybrid build',
      '  arch:\n    - amd64\n    - arm64\n  remote: ssh://deploy@10.0.0.9\n',
      'builder/remote: building linux/amd64 here and linux/arm64 on ssh://deploy@10.0.0.9 into one image needs docker buildx',
    ],
  ] as const) {
    it(`refuses ${name} before logging in or building`, async () => {
      const r = await buildPush(builder);
      expect(r.result.exitCode).toBe(1);
      expect(r.err).toContain(message);
      expect(r.err).not.toMatch(STACK_FRAME);
      expect(r.commands).toEqual(['docker version', 'docker buildx version']);
    });
  }
});
