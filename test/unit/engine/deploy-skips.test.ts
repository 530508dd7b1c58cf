/**
 * The deploy does not send three of Kamal's commands whose answers the run already has (README,
 * Performance): the proxy boot's registry login after the pull's, the `container ls` that finds
 * the endpoint after `docker run`, and the boot's second current-version query. These tests
 * pin when each one is left out and when it is still sent.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../../src/model/index.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { Kamal } from '../../../src/engine/kamal.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { deploy } from '../../../src/engine/main.js';
import { appBoot } from '../../../src/engine/app.js';
import { MapSecretStore } from '../../../src/secret.js';

const RAW = {
  service: 'app',
  image: 'dhh/app',
  servers: { web: ['1.1.1.1'] },
  registry: { server: 'registry.test', username: 'user', password: ['KAMAL_REGISTRY_PASSWORD'] },
  proxy: { host: 'app.example.test' },
  builder: { arch: 'amd64' },
  readiness_delay: 0,
};

const ID = 'f2f4437b92df'.padEnd(64, '0');

/**
 * One host's containers (name -> running?) answering what a deploy asks: `docker run --detach`
 * prints a 64-character id (or nothing, with `quietRun`), `container ls --filter name=^X$` the
 * short id of X, and current_running_version the newest running `app-web-*`.
 */
function host(containers: Map<string, boolean>, opts: { quietRun?: boolean } = {}) {
  return (_host: string, command: string) => {
    const run = /^docker run --detach --restart unless-stopped --name (\S+) /.exec(command);
    if (run) {
      containers.set(run[1]!, true);
      return { stdout: opts.quietRun ? '' : `${ID}\n` };
    }
    const rename = /^docker rename (\S+) (\S+)$/.exec(command);
    if (rename) {
      containers.set(rename[2]!, containers.get(rename[1]!)!);
      containers.delete(rename[1]!);
      return {};
    }
    const stop = /name=\^(\S+)\$' --quiet \| xargs docker stop/.exec(command);
    if (stop) {
      if (containers.has(stop[1]!)) containers.set(stop[1]!, false);
      return {};
    }
    const ls = /^docker container ls --all --filter 'name=\^(\S+)\$' --quiet$/.exec(command);
    if (ls) return { stdout: containers.has(ls[1]!) ? 'c0ffee\n' : '' };
    if (command.includes('docker ps --latest')) {
      const running = [...containers].filter(([, up]) => up).map(([name]) => name);
      return { stdout: running.length ? `${running.at(-1)!.replace(/^app-web-/, '')}\n` : '' };
    }
    if (command.startsWith('docker ps --filter label=service=app')) {
      return {
        stdout: [...containers]
          .filter(([, up]) => up)
          .map(([name]) => `${name.replace(/^app-web-/, '')}\n`)
          .join(''),
      };
    }
    return undefined;
  };
}

function setup(containers: Map<string, boolean>, opts: { quietRun?: boolean } = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'kamal-skips-'));
  const secrets = new MapSecretStore({ KAMAL_REGISTRY_PASSWORD: 'pw' });
  const config = new Configuration(structuredClone(RAW), { version: 'v2', secrets, cwd });
  const runner = new RecordingRunner(host(containers, opts));
  const k = new Kamal({ config, runner, reporter: new MemoryReporter(), cwd, env: {}, command: 'deploy' });
  return { k, commands: () => runner.transcript.map((c) => c.command) };
}

const LOGIN = 'docker login registry.test -u "user" --password-stdin';
const CURRENT = /^sh -c 'docker ps --latest /;
const count = (commands: string[], match: string | RegExp) => commands.filter((c) => (typeof match === 'string' ? c === match : match.test(c))).length;

describe('commands a deploy does not send', () => {
  it("logs in once per host: the proxy boot reuses the pull's login", async () => {
    const { k, commands } = setup(new Map([['app-web-v1', true]]));
    await deploy(k, { skipPush: true });
    expect(count(commands(), LOGIN)).toBe(1);
    expect(commands()[0]).toBe(LOGIN);
    expect(commands().indexOf(LOGIN)).toBeLessThan(commands().findIndex((c) => c.startsWith('docker pull ')));
  });

  it('takes the endpoint from the id docker run prints: no container ls after the run, the short id as target', async () => {
    const { k, commands } = setup(new Map([['app-web-v1', true]]));
    await deploy(k, { skipPush: true });
    const c = commands();
    const run = c.findIndex((x) => x.startsWith('docker run --detach'));
    const proxyDeploy = c.findIndex((x) => x.includes('kamal-proxy deploy app-web'));
    expect(c.slice(run + 1, proxyDeploy)).toEqual([]);
    expect(c[proxyDeploy]).toContain(`--target="${ID.slice(0, 12)}:80"`);
  });

  it('asks for the endpoint as Kamal does when docker run printed no id', async () => {
    const { k, commands } = setup(new Map([['app-web-v1', true]]), { quietRun: true });
    await deploy(k, { skipPush: true });
    const c = commands();
    const run = c.findIndex((x) => x.startsWith('docker run --detach'));
    expect(c[run + 1]).toBe("docker container ls --all --filter 'name=^app-web-v2$' --quiet");
    expect(c[run + 2]).toContain('--target="c0ffee:80"');
  });

  it('asks for the running version once per deploy and stops the version the stale check found', async () => {
    const containers = new Map([['app-web-v1', true]]);
    const { k, commands } = setup(containers);
    await deploy(k, { skipPush: true });
    expect(count(commands(), CURRENT)).toBe(1);
    expect(commands()).toContain("docker container ls --all --filter 'name=^app-web-v1$' --quiet | xargs docker stop");
    expect(containers.get('app-web-v1')).toBe(false);
  });

  it('asks again after renaming a clashing container that was the running one', async () => {
    // redeploying the running version: its container is renamed, and the running version is then the renamed one
    const containers = new Map([['app-web-v2', true]]);
    const { k, commands } = setup(containers);
    await deploy(k, { skipPush: true });
    const c = commands();
    expect(count(c, CURRENT)).toBe(2);
    const renamed = [...containers.keys()].find((n) => n.startsWith('app-web-v2_replaced_'))!;
    expect(renamed).toBeDefined();
    expect(c).toContain(`docker container ls --all --filter 'name=^${renamed}$' --quiet | xargs docker stop`);
    expect(containers.get(renamed)).toBe(false);
    expect(containers.get('app-web-v2')).toBe(true);
  });

  it('keeps the known version when the renamed clashing container was a stopped one', async () => {
    const containers = new Map([
      ['app-web-v2', false],
      ['app-web-v1', true],
    ]);
    const { k, commands } = setup(containers);
    await deploy(k, { skipPush: true });
    expect(count(commands(), CURRENT)).toBe(1);
    expect(commands()).toContain("docker container ls --all --filter 'name=^app-web-v1$' --quiet | xargs docker stop");
  });

  it('app boot on its own (no stale check before it) asks as Kamal does', async () => {
    const { k, commands } = setup(new Map([['app-web-v1', true]]));
    await appBoot(k, { version: 'v2' });
    expect(count(commands(), CURRENT)).toBe(1);
    expect(count(commands(), LOGIN)).toBe(0);
  });
});
