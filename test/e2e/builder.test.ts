/**
 * Builder variants on a machine without docker buildx, against the lab's
 * registry and hosts: a build context in a subfolder with its own Dockerfile,
 * a target stage and build args (one of them hostile); build secrets through
 * BuildKit (Debian's docker client has it built in), never written into the
 * image or the log; a docker client without BuildKit refused with the fix; a
 * remote builder (`local: false`) building on a lab host over SSH through
 * Kamal's docker context; two platforms refused before anything is built.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kamal, lab, labProxyYaml, makeProject, onHost, resetHosts, type KamalRun, type LabHost } from './helpers.js';

const SERVICE = 'bld';
const HOST = 'bld.lab.test';
const BUILD_TOKEN = 'bt-9f4e2c71-build-only';
const PWNED = '/tmp/kamal-e2e-builder-pwned';
const FLAVOUR = `spicy $(touch ${PWNED}) \`touch ${PWNED}\` "q" 'q' ; ü`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function ok(r: KamalRun): KamalRun {
  expect(r.exitCode, r.err).toBe(0);
  return r;
}

/** A project whose deploy.yml has the given builder section; the lab app's files are in `web/`. */
function project(builder: string, files: Record<string, string>, secrets = ''): string {
  const l = lab();
  const yaml = `servers:\n  - ${l.hosts[0]!.ip}\n${labProxyYaml(HOST)}`;
  const dir = makeProject({ service: SERVICE, yaml, builder, secrets: `KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\n${secrets}`, files });
  dirs.push(dir);
  cpSync(l.appContext, join(dir, 'web'), { recursive: true });
  return dir;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const everything = (r: KamalRun): string => `${r.out}${r.err}${r.reporter.text}${JSON.stringify(r.reporter.messages)}${JSON.stringify(r.reporter.commands)}`;
const localImage = (ref: string): boolean => {
  try {
    execFileSync('docker', ['image', 'inspect', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('builder variants without buildx', () => {
  let h1: LabHost;
  const repo = `${lab().registry.server}/lab/${SERVICE}`;

  beforeAll(() => {
    h1 = lab().hosts[0]!;
    resetHosts([h1]);
    rmSync(PWNED, { force: true });
  });

  it('builds a subfolder context with its Dockerfile, target stage and args, says what it leaves out, and serves it', async () => {
    const dockerfile = `FROM lab/busybox:latest AS base
ARG VERSION=dev
ENV VERSION=$VERSION PORT=80
COPY start.sh /usr/local/bin/app-start
CMD ["/usr/local/bin/app-start"]

FROM base AS production
ARG FLAVOUR=none
RUN mkdir -p /srv/app && printf '%s\\n' "stage=production" "flavour=$FLAVOUR" > /srv/app/build.txt

FROM base AS debug
RUN mkdir -p /srv/app && echo stage=debug > /srv/app/build.txt
`;
    const dir = project(
      `  arch: amd64
  context: web
  dockerfile: web/docker/Dockerfile.multi
  target: production
  args:
    VERSION: ctx1
    FLAVOUR: ${JSON.stringify(FLAVOUR)}
  cache:
    type: gha
`,
      { 'web/docker/Dockerfile.multi': dockerfile },
    );
    const r = ok(await kamal(dir, ['deploy', '--version', 'ctx1']));
    expect(r.reporter.messages.map((m) => m.message)).toContain('docker buildx is not available here: building with `docker build`, then `docker push`');
    expect(r.reporter.messages.map((m) => m.message)).toContain('builder.cache (gha) needs docker buildx: building without reading or exporting the cache');
    expect((await httpGet(h1.ip, '/', HOST)).body).toBe('ctx1\n');
    expect((await httpGet(h1.ip, '/build.txt', HOST)).body).toBe(`stage=production\nflavour=${FLAVOUR}\n`);
    expect(existsSync(PWNED)).toBe(false);
    // the image carries the service label Kamal checks before booting
    expect(onHost(h1, `docker inspect -f '{{ .Config.Labels.service }}' ${repo}:ctx1`)).toBe(SERVICE);
  });

  it('passes build secrets through BuildKit: used in the build, absent from the image and from every line printed', async () => {
    const dockerfile = `FROM lab/busybox:latest
ARG VERSION=dev
ENV VERSION=$VERSION PORT=80
COPY start.sh /usr/local/bin/app-start
RUN --mount=type=secret,id=BUILD_TOKEN mkdir -p /srv/app && sha256sum /run/secrets/BUILD_TOKEN | cut -d' ' -f1 > /srv/app/token.sha
CMD ["/usr/local/bin/app-start"]
`;
    const dir = project(
      `  arch: amd64\n  context: web\n  dockerfile: web/Dockerfile.secret\n  args:\n    VERSION: sec1\n  secrets:\n    - BUILD_TOKEN\n`,
      { 'web/Dockerfile.secret': dockerfile },
      `BUILD_TOKEN=${BUILD_TOKEN}\n`,
    );

    // the docker client first on PATH has no buildx and no BuildKit of its own: refused with the fix, nothing pushed
    const refused = await kamal(dir, ['build', 'push', '--version', 'sec0']);
    expect(refused.exitCode).toBe(1);
    expect(refused.err).toContain(
      'builder/secrets: passing build secrets into the build needs BuildKit; this docker client has neither the buildx plugin nor BuildKit built in (install docker buildx)',
    );
    expect(everything(refused)).not.toContain(BUILD_TOKEN);

    // Debian's docker client builds with BuildKit built in
    const r = ok(await kamal(dir, ['deploy', '--version', 'sec1'], { PATH: `/usr/bin:${process.env.PATH}` }));
    expect((await httpGet(h1.ip, '/token.sha', HOST)).body).toBe(`${sha256(BUILD_TOKEN)}\n`);
    expect(everything(r)).not.toContain(BUILD_TOKEN);
    const image = execFileSync('docker', ['save', `${repo}:sec1`], { maxBuffer: 256 * 1024 * 1024 });
    expect(image.length).toBeGreaterThan(100_000);
    expect(image.includes(Buffer.from(BUILD_TOKEN))).toBe(false);
    expect(execFileSync('docker', ['history', '--no-trunc', `${repo}:sec1`]).toString()).not.toContain(BUILD_TOKEN);
  });

  it('builds on a remote host over SSH through the docker context Kamal creates (builder.local: false)', async () => {
    const l = lab();
    // what a user's ssh config gives the docker client: the lab key and known hosts
    const bin = mkdtempSync(join(tmpdir(), 'kamal-e2e-ssh-'));
    const dockerConfig = mkdtempSync(join(tmpdir(), 'kamal-e2e-docker-'));
    dirs.push(bin, dockerConfig);
    writeFileSync(
      join(bin, 'ssh'),
      `#!/bin/sh\nexec /usr/bin/ssh -i ${l.ssh.key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${l.ssh.knownHosts} -o StrictHostKeyChecking=yes "$@"\n`,
    );
    chmodSync(join(bin, 'ssh'), 0o755);
    mkdirSync(join(dockerConfig, 'contexts'), { recursive: true });
    const env = { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: dockerConfig };

    const dockerfile = `FROM ${l.registry.server}/lab/app:v1\nRUN mkdir -p /srv/app && echo built-remotely > /srv/app/where.txt\n`;
    const dir = project(`  arch: amd64\n  local: false\n  remote: ssh://root@${h1.ip}\n  context: web\n  dockerfile: web/Dockerfile.remote\n`, {
      'web/Dockerfile.remote': dockerfile,
    });
    const r = ok(await kamal(dir, ['build', 'push', '--version', 'rem1'], env));
    const context = `kamal-remote-ssh---root-${h1.ip.replaceAll('.', '-')}-context`;
    expect(r.reporter.commands.map((c) => c.command)).toContain(
      `docker context create ${context} --description 'kamal-remote-ssh---root-${h1.ip.replaceAll('.', '-')} host' --docker host=ssh://root@${h1.ip}`,
    );
    // built by the host's engine, not this machine's
    expect(onHost(h1, `docker image inspect -f '{{ .Config.Labels.service }}' ${repo}:rem1`)).toBe(SERVICE);
    expect(localImage(`${repo}:rem1`)).toBe(false);
    // a second build reuses the context
    const again = ok(await kamal(dir, ['build', 'push', '--version', 'rem2'], env));
    expect(again.reporter.commands.some((c) => c.command.startsWith('docker context create'))).toBe(false);

    ok(await kamal(dir, ['deploy', '--skip-push', '--version', 'rem2'], env));
    expect((await httpGet(h1.ip, '/where.txt', HOST)).body).toBe('built-remotely\n');
  });

  it('refuses two platforms before building anything', async () => {
    const dir = project('  arch:\n    - amd64\n    - arm64\n', {});
    const r = await kamal(dir, ['build', 'push', '--version', 'multi1']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('builder/arch: building for linux/amd64 and linux/arm64 needs docker buildx, which is not installed here');
    expect(r.reporter.commands.map((c) => c.command)).toEqual(['docker version', 'docker buildx version']);
    expect(localImage(`${repo}:multi1`)).toBe(false);
  });
});
