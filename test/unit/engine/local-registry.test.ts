/**
 * `build deliver` with a local registry (`registry.server: localhost:5000`), as Kamal 2.12 runs it:
 * the kamal-docker-registry container started here, no `docker login` anywhere, the builder named
 * for the local registry, and every host of the config reached through a reverse tunnel that is
 * open only around the pulls (which run on the app hosts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { STACK_FRAME, copyApp, removeDirs, testEnv } from '../reliability/fleet.js';

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

async function deliver(failForwardOn?: string) {
  const dir = copyApp(dirs);
  const file = join(dir, 'config/deploy.yml');
  const yaml = readFileSync(file, 'utf8').replace(
    /registry:\n {2}server: registry.example.com\n {2}username: deployer\n {2}password:\n {4}- KAMAL_REGISTRY_PASSWORD\n/,
    'registry:\n  server: localhost:5000\n',
  );
  expect(yaml).toContain('server: localhost:5000');
  writeFileSync(file, yaml);
  const runner = new RecordingRunner((host, command) =>
    host === failForwardOn && command.startsWith('forward ') ? { exitCode: 1, stderr: 'remote port forwarding failed for listen port 5000' } : undefined,
  );
  let err = '';
  const reporter = new MemoryReporter();
  const result = await runCli(['build', 'deliver', '--version', 'v9'], {
    cwd: dir,
    env: testEnv(),
    out: () => undefined,
    err: (s) => (err += s),
    runner,
    local: runner,
    reporter,
  });
  return { result, err, lines: runner.lines(), reporter };
}

const IMAGE = 'localhost:5000/acme/app';
const APP_HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
const ALL_HOSTS = [...APP_HOSTS, '10.0.0.4'];

describe('local registry', () => {
  it('starts the registry here, builds with the local-registry builder, and pulls through tunnels opened only around the pulls', async () => {
    const { result, lines } = await deliver();
    expect(result.exitCode).toBe(0);
    const local = lines.filter((l) => l.startsWith('local: ')).map((l) => l.slice(7));
    expect(local).toEqual([
      'docker version',
      'docker buildx version',
      'docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3',
      'docker buildx inspect kamal-local-registry-docker-container',
      `docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-registry-docker-container -t ${IMAGE}:v9 -t ${IMAGE}:latest --label service="app" --file Dockerfile . 2>&1`,
    ]);
    expect(lines.filter((l) => l.includes('docker login'))).toEqual([]);
    const remote = lines.filter((l) => !l.startsWith('local: '));
    const firstForward = remote.findIndex((l) => l.includes(': forward '));
    const lastUnforward = remote.findLastIndex((l) => l.includes(': unforward '));
    // every host of the config gets a tunnel before anything else runs on the hosts ...
    expect(remote.slice(0, ALL_HOSTS.length).sort()).toEqual(ALL_HOSTS.map((h) => `${h}: forward 127.0.0.1:5000 to localhost:5000`));
    expect(firstForward).toBe(0);
    // ... and loses it after the last pull
    expect(remote.slice(lastUnforward - ALL_HOSTS.length + 1).sort()).toEqual(ALL_HOSTS.map((h) => `${h}: unforward 127.0.0.1:5000`));
    expect(lastUnforward).toBe(remote.length - 1);
    for (const h of APP_HOSTS) expect(remote).toContain(`${h}: docker pull ${IMAGE}:v9`);
    expect(remote.some((l) => l.startsWith('10.0.0.4: docker pull'))).toBe(false);
  });

  it('names the host whose tunnel fails, pulls nothing, and closes the tunnels it opened', async () => {
    const { result, err, lines } = await deliver('10.0.0.2');
    expect(result.exitCode).toBe(1);
    expect(err).toContain('10.0.0.2');
    expect(err).toContain('remote port forwarding failed for listen port 5000');
    expect(err).not.toMatch(STACK_FRAME);
    expect(lines.some((l) => l.includes('docker pull'))).toBe(false);
    const opened = lines.filter((l) => / forward /.test(l) && !l.startsWith('10.0.0.2')).map((l) => l.split(':')[0]);
    const closed = lines.filter((l) => l.includes(': unforward ')).map((l) => l.split(':')[0]);
    expect(closed.sort()).toEqual(opened.sort());
  });
});
