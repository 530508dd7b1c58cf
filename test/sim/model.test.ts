/**
 * The simulated host's shell and Docker model on their own: exact outputs and exit codes for the
 * shell forms deploys use, and loud failures (non-zero exit, a clear stderr, a record) for
 * anything the model does not know, locally and over SSH.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailedError } from '../../src/exec/types.js';
import { cmd, raw } from '../../src/shell.js';
import { SshPool } from '../../src/ssh/pool.js';
import { Fleet } from './fleet.js';
import { SimHost } from './host.js';
import { PROXY_IMAGE, SIM_REGISTRY, SIM_SECRETS, simRegistry } from './project.js';
import { Input } from './shell.js';

const APP = `${SIM_REGISTRY}/sim/app`;

async function run(h: SimHost, command: string, stdin = ''): Promise<[number, string, string]> {
  const r = await h.exec(command, new Input(stdin));
  return [r.exitCode, r.stdout, r.stderr];
}

describe('the shell', () => {
  const cases: [string, number, string][] = [
    [`echo $(echo a   b) "c  d" 'e $f'`, 0, 'a b c  d e $f\n'],
    [`echo one; echo two`, 0, 'one\ntwo\n'],
    [`false && echo no || echo yes`, 0, 'yes\n'],
    [`(echo "missing" && exit 3)`, 3, 'missing\n'],
    [`cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80"`, 0, '--publish 80:80\n'],
    [`echo "v1\nv2|" | tr -d '\n'`, 0, 'v1v2|'],
    [String.raw`echo "a\tb\nc"`, 0, 'a\tb\nc\n'],
    [`echo "a b" | while read x y; do echo "[$y][$x]"; done`, 0, '[b][a]\n'],
    [`echo app-web-v7 | while read line; do echo \${line#app-web-}; done`, 0, 'v7\n'],
    [`sh -c 'echo '\\''quoted'\\'' inside' | head -1`, 0, 'quoted inside\n'],
    [`/usr/bin/env mkdir -p .kamal/a/b && echo ok > .kamal/a/b/f && cat .kamal/a/b/f`, 0, 'ok\n'],
    [`mkdir .kamal && echo no`, 1, ''],
    [`echo x:y:z | awk -F: '{print $NF}'`, 0, 'z\n'],
    [`echo 1 > n; echo 2 >> n; echo 3 >> n; cat n | tail -n +2`, 0, '2\n3\n'],
    [`echo "keep\ndrop" | grep -v -w "drop\\|other"`, 0, 'keep\n'],
    [`echo -n "" | xargs echo run`, 0, 'run\n'],
    [`echo "TG9jaw==" | base64 -d`, 0, 'Lock'],
  ];
  it.each(cases)('%s', async (command, code, out) => {
    const h = new SimHost('h', simRegistry());
    await run(h, 'mkdir -p .kamal');
    const [c, o] = await run(h, command);
    expect([c, o]).toEqual([code, out]);
    expect(h.unmodelled).toEqual([]);
  });
});

describe('the Docker model', () => {
  it('pulls only after a login with the registry credentials', async () => {
    const h = new SimHost('h', simRegistry());
    expect((await run(h, `docker pull ${APP}:v1`))[0]).toBe(1);
    expect(await run(h, `docker login ${SIM_REGISTRY} -u sim --password-stdin`, 'wrong\n')).toEqual([1, '', expect.stringContaining('unauthorized')]);
    expect((await run(h, `docker login ${SIM_REGISTRY} -u sim --password-stdin`, `${SIM_SECRETS.KAMAL_REGISTRY_PASSWORD}\n`))[0]).toBe(0);
    expect((await run(h, `docker pull ${APP}:v1`))[0]).toBe(0);
    expect(await run(h, `docker inspect -f '{{ .Config.Labels.service }}' ${APP}:v1`)).toEqual([0, 'app\n', '']);
    expect((await run(h, `docker pull ${APP}:nope`))[2]).toContain('manifest unknown');
  });

  it('runs, finds, stops and removes containers by name, label and status', async () => {
    const h = new SimHost('h', simRegistry());
    await run(h, `docker login ${SIM_REGISTRY} -u sim -p ${SIM_SECRETS.KAMAL_REGISTRY_PASSWORD}`);
    await run(h, 'docker network create kamal');
    expect((await run(h, 'docker network create kamal'))[2]).toContain('already exists');
    const [code, id] = await run(h, `docker run --detach --name app-web-v1 --network kamal --label service=app --label role=web ${APP}:v1`);
    expect(code).toBe(0);
    expect(id).toMatch(/^[0-9a-f]{64}\n$/);
    expect((await run(h, `docker run --detach --name app-web-v1 ${APP}:v1`))[2]).toContain('is already in use');
    expect(await run(h, `docker container ls --all --filter 'name=^app-web-v1$' --quiet`)).toEqual([0, `${id.slice(0, 12)}\n`, '']);
    expect(await run(h, `docker ps --filter label=service=app --filter label=role=web --format "{{.Names}}"`)).toEqual([0, 'app-web-v1\n', '']);
    expect(await run(h, `docker container ls --all --filter 'name=^app-web-v1$' --quiet | xargs docker stop`)).toEqual([0, `${id.slice(0, 12)}\n`, '']);
    expect(await run(h, `docker ps --filter label=service=app --format "{{.Names}}"`)).toEqual([0, '', '']);
    expect(await run(h, `docker ps -q -a --filter label=service=app --filter status=exited`)).toEqual([0, `${id.slice(0, 12)}\n`, '']);
    // xargs without input still runs docker stop once, which fails as it does on a host
    expect((await run(h, `docker container ls --all --filter 'name=^none$' --quiet | xargs docker stop`))[0]).toBe(123);
    expect(await run(h, `docker rm app-web-v1`)).toEqual([0, 'app-web-v1\n', '']);
  });

  it('answers kamal-proxy deploy only for a running target on its network', async () => {
    const h = new SimHost('h', simRegistry());
    await run(h, 'docker network create kamal');
    await run(h, `docker run --name kamal-proxy --network kamal --detach ${PROXY_IMAGE}`);
    await run(h, `docker login ${SIM_REGISTRY} -u sim -p ${SIM_SECRETS.KAMAL_REGISTRY_PASSWORD}`);
    const [, id] = await run(h, `docker run --detach --name app-web-v1 --network kamal ${APP}:v1`);
    expect(await run(h, `docker exec kamal-proxy kamal-proxy deploy app-web --target="${id.slice(0, 12)}:80" --host="a.test"`)).toEqual([0, '', '']);
    expect(h.proxy.get('app-web')).toEqual({ target: 'app-web-v1', args: ['--host=a.test'] });
    await run(h, 'docker stop app-web-v1');
    expect((await run(h, `docker exec kamal-proxy kamal-proxy deploy app-web --target="${id.slice(0, 12)}:80"`))[2]).toContain('failed to become healthy');
  });
});

describe('what the model does not know fails loudly', () => {
  const unknown: [string, number][] = [
    ['docker volume rm data', 1],
    ['docker run --detach --frobnicate x basecamp/kamal-proxy:v0.9.2', 125],
    ['docker ps --filter health=healthy', 1],
    ['docker inspect kamal-proxy --format "{{.NetworkSettings.Ports}}"', 1],
    ['docker exec app-web-v1 ls', 1],
    ['systemctl restart docker', 127],
    ['for i in 1 2; do echo $i; done', 2],
    ['echo `date`', 2],
    ['echo x | sed s/x/y/', 127],
  ];
  it.each(unknown)('%s', async (command, code) => {
    const h = new SimHost('h', simRegistry());
    await run(h, 'docker network create kamal');
    await run(h, `docker run --name kamal-proxy --network kamal --detach ${PROXY_IMAGE}`);
    const [c, , err] = await run(h, command);
    expect(c).toBe(code);
    expect(err).toMatch(/sim: unmodelled command|Syntax error/);
    expect(h.unmodelled).toHaveLength(1);
    expect(h.records.at(-1)).toMatchObject({ command, exitCode: code });
  });

  describe('over SSH', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      fleet = await Fleet.start({
        hosts: 2,
        base: 122,
        dir: join(mkdtempSync(join(tmpdir(), 'sim-model-')), 'keys'),
        registry: simRegistry(),
        latencyScale: 0,
      });
    });
    afterAll(async () => fleet?.stop());

    it('as a failed command with the reason on stderr, recorded by the host', async () => {
      const pool = new SshPool({ user: 'root', keys: [fleet.keyFile], keysOnly: true, knownHostsFiles: [fleet.knownHostsFile] });
      try {
        const host = fleet.addresses[1]!;
        const err = await pool.run(host, cmd('docker', 'swarm', 'init')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CommandFailedError);
        expect((err as CommandFailedError).exitCode).toBe(1);
        expect((err as CommandFailedError).stderr).toBe('sim: unmodelled command: docker swarm init (docker swarm)\n');
        expect(fleet.unmodelled()).toEqual([{ host, command: 'docker swarm init', reason: 'docker swarm' }]);
        // what is modelled still answers on the same connection, uploads through stdin included
        await pool.upload(host, 'A=1\n', '.env-test', { mode: '600' });
        expect(await pool.run(host, cmd('cat', raw('.env-test')))).toMatchObject({ exitCode: 0, stdout: 'A=1\n' });
        expect(fleet.host(host).files.get('/root/.env-test')).toEqual({ content: 'A=1\n', mode: 0o600 });
      } finally {
        await pool.close();
      }
    });
  });
});
