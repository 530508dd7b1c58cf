// Smoke checks of the end-to-end lab: the kamal-proxy stand-in on its own (no docker),
// then the hosts, the registry, and the stand-in driven exactly as Kamal drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  LAB_SRC,
  disconnectHost,
  httpGet,
  killSshd,
  reconnectHost,
  registryReady,
  restartHost,
  restartHostDockerd,
  startHostDockerd,
  startRegistry,
  startSshd,
  stopHostDockerd,
  stopRegistry,
  hostExec,
  registryLogin,
  resetHost,
  run,
  sshArgs,
  sshExec,
  waitFor,
  type ExecResult,
  type LabInfo,
} from '../lab/lab.js';

const PROXY_MJS = path.join(LAB_SRC, 'proxy', 'kamal-proxy.mjs');

// ------------------------------------------------------------------ local stand-in

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = http.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

interface Backend {
  port: number;
  server: http.Server;
  healthy: boolean;
  seen: http.IncomingHttpHeaders[];
}

function backend(name: string): Promise<Backend> {
  const b: Backend = { port: 0, server: http.createServer(), healthy: true, seen: [] };
  b.server.on('request', (req, res) => {
    const url = req.url ?? '/';
    if (url === '/up') {
      res.writeHead(b.healthy ? 200 : 500).end(b.healthy ? 'OK' : 'sick');
      return;
    }
    b.seen.push(req.headers);
    if (url.startsWith('/slow')) {
      setTimeout(() => res.end(`${name} slow`), 800);
      return;
    }
    res.end(`${name} ${url}`);
  });
  return new Promise((resolve) =>
    b.server.listen(0, '127.0.0.1', () => {
      b.port = (b.server.address() as { port: number }).port;
      resolve(b);
    }),
  );
}

describe('kamal-proxy stand-in (local, no docker)', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kp-'));
  const env = { ...process.env, HOME: tmp, XDG_RUNTIME_DIR: tmp, XDG_CONFIG_HOME: '' } as Record<string, string>;
  delete env.KAMAL_PROXY_SOCKET;
  let proxy: ChildProcess | null = null;
  let httpPort = 0;
  let a: Backend;
  let b: Backend;

  const cli = (...args: string[]): Promise<ExecResult> => run(process.execPath, [PROXY_MJS, ...args], { env, allowFailure: true, timeoutMs: 60_000 });

  async function startProxy(): Promise<void> {
    httpPort = httpPort || (await freePort());
    const httpsPort = await freePort();
    const child = spawn(process.execPath, [PROXY_MJS, 'run', '--http-port', String(httpPort), `--https-port=${httpsPort}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proxy = child;
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitFor('local proxy to start', () => out.includes('Server started'), { timeoutMs: 10_000, intervalMs: 50 });
  }

  async function stopProxy(): Promise<void> {
    const child = proxy;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    proxy = null;
  }

  const get = (p: string, host = 'app.test') => httpGet('127.0.0.1', p, { port: httpPort, host });

  beforeAll(async () => {
    a = await backend('A');
    b = await backend('B');
    await startProxy();
  });

  afterAll(async () => {
    await stopProxy();
    a?.server.close();
    b?.server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('reports CLI errors like kamal-proxy', async () => {
    let r = await cli('deploy', 'web', '--target=127.0.0.1:1', '--foo');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: unknown flag: --foo\n');
    r = await cli('deploy', 'web');
    expect(r.stderr).toContain('Error: required flag(s) "target" not set');
    r = await cli('deploy', 'web', '--target', 'x:1', '--deploy-timeout=soon');
    expect(r.stderr).toContain('Error: invalid argument "soon" for "--deploy-timeout" flag: time: invalid duration "soon"');
    r = await cli('deploy', 'web', '--target=x:1', '--max-request-body=10');
    expect(r.stderr).toContain('Error: max-request-body can only be set when request buffering is enabled');
    r = await cli('remove', 'nothing-here');
    expect(r.stderr).toBe('Error: service not found\n');
    r = await run(process.execPath, [PROXY_MJS, 'list'], { env: { ...env, XDG_RUNTIME_DIR: path.join(tmp, 'none') }, allowFailure: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: dial unix ${path.join(tmp, 'none', 'kamal-proxy.sock')}: connect: no such file or directory\n`);
  });

  it('routes by host and path prefix, 404 otherwise, sets forwarding headers', async () => {
    expect((await get('/')).status).toBe(404);
    let r = await cli('deploy', 'web', `--target=127.0.0.1:${a.port}`, '--host=app.test,www.app.test', '--health-check-interval=100ms');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    r = await cli('deploy', 'api', `--target`, `127.0.0.1:${b.port}`, '--host', 'app.test', '--path-prefix=/api/');
    expect(r.code).toBe(0);
    expect((await get('/hello?x=1')).body).toBe('A /hello?x=1');
    expect((await get('/', 'www.app.test')).body).toBe('A /');
    expect((await get('/api/v1/users')).body).toBe('B /v1/users');
    expect((await get('/', 'other.test')).status).toBe(404);
    const h = a.seen.at(-1)!;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('www.app.test');
    expect(h['x-kamal-target']).toBe(`127.0.0.1:${a.port}`);
    expect(h['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    r = await cli('deploy', 'other', `--target=127.0.0.1:${b.port}`, '--host=app.test');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: host settings conflict with another service\n');
    r = await cli('list');
    expect(r.stdout).toMatch(/Service\s+Host\s+Path\s+Target\s+State\s+TLS/);
    expect(r.stdout).toMatch(/api\s+app.test\s+\/api/);
  });

  it('request buffering: a body over --max-request-body gets 413 without reaching the target, one under it passes', async () => {
    const r = await cli(
      'deploy',
      'buffered',
      `--target=127.0.0.1:${a.port}`,
      '--host=buf.test',
      '--buffer-requests',
      '--max-request-body=1024',
      '--buffer-memory=2048',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const seen = a.seen.length;
    const post = (bytes: number) => httpGet('127.0.0.1', '/upload', { port: httpPort, host: 'buf.test', method: 'POST', body: Buffer.alloc(bytes, 'x') });
    const over = await post(4096);
    expect(over.status).toBe(413);
    expect(over.body).toContain('Request Entity Too Large');
    expect(a.seen.length).toBe(seen);
    const under = await post(512);
    expect(under.status).toBe(200);
    expect(under.body).toBe('A /upload');
    expect((await cli('remove', 'buffered')).code).toBe(0);
  });

  it('keeps the old target when the new one never becomes healthy', async () => {
    b.healthy = false;
    const started = Date.now();
    const r = await cli(
      'deploy',
      'web',
      `--target=127.0.0.1:${b.port}`,
      '--host=app.test,www.app.test',
      '--deploy-timeout=1s',
      '--health-check-interval=200ms',
    );
    b.healthy = true;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: target failed to become healthy within configured timeout (1s)\n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await get('/')).body).toBe('A /');
  });

  it('switches targets, draining in-flight requests before deploy returns', async () => {
    const slow = get('/slow');
    await new Promise((r) => setTimeout(r, 100));
    const r = await cli('deploy', 'web', `--target=127.0.0.1:${b.port}`, '--host=app.test,www.app.test', '--drain-timeout=5s');
    expect(r.code).toBe(0);
    const slowResult = await slow;
    expect(slowResult.body).toBe('A slow');
    expect((await get('/')).body).toBe('B /');
  });

  it('stop gives 503 except for the health path, resume restores', async () => {
    expect((await cli('stop', 'web', '--message', 'Back soon', '--drain-timeout=1s')).code).toBe(0);
    const stopped = await get('/');
    expect(stopped.status).toBe(503);
    expect(stopped.body).toContain('Back soon');
    expect((await get('/up')).status).toBe(200);
    expect((await cli('resume', 'web')).code).toBe(0);
    expect((await get('/')).body).toBe('B /');
  });

  it('restores routes from its state file after a restart', async () => {
    await stopProxy();
    const state = JSON.parse(fs.readFileSync(path.join(tmp, '.config', 'kamal-proxy', 'kamal-proxy.state'), 'utf8'));
    expect(state.map((s: { name: string }) => s.name).sort()).toEqual(['api', 'web']);
    await startProxy();
    expect((await get('/')).body).toBe('B /');
    expect((await get('/api/x')).body).toBe('B /x');
    expect((await cli('remove', 'api')).code).toBe(0);
    expect((await get('/api/x')).body).toBe('B /api/x');
  });
});

// ------------------------------------------------------------------ the lab

const labInfo = inject('lab') as LabInfo | null;
const describeLab = labInfo ? describe : describe.skip;

describeLab('lab', () => {
  const info = labInfo!;
  const h1 = info?.hosts[0];
  const h2 = info?.hosts[1] ?? info?.hosts[0];

  it('every host answers ssh as root and deploy, with a working docker', async () => {
    await Promise.all(
      info.hosts.flatMap((h) =>
        info.ssh.users.map(async (user) => {
          const r = await sshExec(h, "id -un; hostname; docker info --format '{{.ServerVersion}}'", { user });
          const [who, name, version] = r.stdout.trim().split('\n');
          expect(who).toBe(user);
          expect(name).toBe(h.name);
          expect(version).toMatch(/^\d+\.\d+/);
        }),
      ),
    );
  });

  it('the hashed known_hosts file verifies the hosts too', async () => {
    const args = sshArgs(h1, 'deploy').map((a) => a.replace(info.ssh.knownHosts, info.ssh.knownHostsHashed));
    expect(fs.readFileSync(info.ssh.knownHostsHashed, 'utf8')).toMatch(/^\|1\|/);
    const r = await run('ssh', [...args, 'true']);
    expect(r.code).toBe(0);
  });

  it('reaches a host through another one as a jump host, by its lab name', async () => {
    const jump = ['ssh', ...sshArgs(h1, 'root').slice(0, -1), '-W', '%h:%p', `root@${h1.ip}`].join(' ');
    const base = sshArgs(h2, 'root').slice(0, -3);
    const r = await run('ssh', [...base, '-o', `ProxyCommand=${jump}`, `root@${h2.internalName}`, 'hostname']);
    expect(r.stdout.trim()).toBe(h2.name);
  });

  it('registry: login, push from one host, pull on another', async () => {
    await resetHost(h1);
    await resetHost(h2);
    const tag = `${info.registry.server}/lab/smoke:t${Date.now()}`;
    for (const h of [h1, h2]) {
      const r = await sshExec(h, `docker login ${info.registry.server} -u ${info.registry.username} --password-stdin`, {
        user: 'deploy',
        input: info.registry.password,
      });
      expect(r.stdout).toContain('Login Succeeded');
    }
    await sshExec(h1, `docker pull -q ${info.appRepo}:v1 && docker tag ${info.appRepo}:v1 ${tag} && docker push -q ${tag}`, { user: 'deploy' });
    const r = await sshExec(h2, `docker pull -q ${tag} && docker image inspect -f '{{.Config.Env}}' ${tag}`, { user: 'deploy' });
    expect(r.stdout).toContain('VERSION=v1');
    const unauth = await sshExec(h2, `docker logout ${info.registry.server} >/dev/null; docker pull ${info.appRepo}:v2`, {
      user: 'deploy',
      allowFailure: true,
    });
    expect(unauth.code).not.toBe(0);
    expect(unauth.stderr).toMatch(/no basic auth credentials|unauthorized/);
  });

  it('the db accessory image reads its config and keeps data in its data dir', async () => {
    await resetHost(h1);
    await registryLogin(h1, 'deploy');
    await hostExec(h1, 'mkdir -p /home/deploy/app-db/etc && echo "max_connections=7" > /home/deploy/app-db/etc/db.conf && chown -R deploy /home/deploy/app-db');
    const start = `docker run -d --name app-db -v /home/deploy/app-db/etc:/etc/db -v app-db-data:/var/lib/db ${info.dbImage}`;
    await sshExec(h1, start, { user: 'deploy' });
    const read = (p: string) =>
      waitFor(
        `db ${p}`,
        async () => {
          const r = await hostExec(h1, `docker exec app-db wget -qO- http://127.0.0.1:5432${p}`, { allowFailure: true });
          return r.code === 0 ? r.stdout : null;
        },
        { timeoutMs: 20_000 },
      );
    expect(await read('/config')).toContain('max_connections=7');
    await hostExec(h1, `docker rm -f app-db >/dev/null && ${start} >/dev/null`);
    expect((await read('/boots')).trim().split('\n')).toHaveLength(2);
  });

  describe('kamal-proxy stand-in on a host', () => {
    const ids: Record<string, string> = {};
    const ssh = (cmd: string, allowFailure = false) => sshExec(h1, cmd, { user: 'deploy', allowFailure, timeoutMs: 120_000 });
    const proxyDeploy = (id: string, extra = '') =>
      ssh(
        `docker exec kamal-proxy kamal-proxy deploy app-web --target="${id}:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"${extra}`,
        true,
      );
    const served = async () => (await httpGet(h1.ip, '/version')).body.trim();

    beforeAll(async () => {
      await resetHost(h1);
      await registryLogin(h1, 'deploy');
      await ssh('docker network create kamal');
      await ssh(
        `docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m ${info.proxyImage.image} kamal-proxy run`,
      );
      for (const v of ['v1', 'v2', 'bad']) {
        await ssh(`docker run --detach --restart unless-stopped --name app-web-${v} --network kamal --hostname vm1-${v} ${info.appRepo}:${v}`);
        ids[v] = (await ssh(`docker container ls --all --filter 'name=^app-web-${v}$' --quiet`)).stdout.trim();
      }
      await waitFor('kamal-proxy socket', async () => (await ssh('docker exec kamal-proxy kamal-proxy list', true)).code === 0, { timeoutMs: 30_000 });
    });

    it('has the label Kamal prunes by, and a version tag Kamal accepts', async () => {
      const r = await ssh(`docker inspect kamal-proxy --format '{{index .Config.Labels "org.opencontainers.image.title"}} {{.Config.Image}}'`);
      expect(r.stdout.trim()).toBe(`kamal-proxy ${info.proxyImage.image}`);
    });

    it('serves nothing before a deploy, then the deployed version', async () => {
      expect((await httpGet(h1.ip, '/')).status).toBe(404);
      const r = await proxyDeploy(ids.v1!);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(await served()).toBe('v1');
    });

    it('switches v1 -> v2 under load without a failed request, draining a slow one', async () => {
      let failures = 0;
      let requests = 0;
      const versions = new Set<string>();
      let deploying = true;
      const deadline = Date.now() + 60_000;
      const worker = async () => {
        while ((deploying || requests < 40) && requests < 3000 && Date.now() < deadline) {
          requests++;
          try {
            const r = await httpGet(h1.ip, '/version', { timeoutMs: 10_000 });
            if (r.status !== 200) failures++;
            else versions.add(r.body.trim());
          } catch {
            failures++;
          }
        }
      };
      const load = Promise.all([worker(), worker(), worker(), worker()]);
      const slow = httpGet(h1.ip, '/cgi-bin/slow?2', { timeoutMs: 20_000 });
      await new Promise((r) => setTimeout(r, 300));
      const r = await proxyDeploy(ids.v2!);
      deploying = false;
      await load;
      const slowResult = await slow;
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(failures).toBe(0);
      expect(requests).toBeGreaterThan(20);
      expect([...versions].sort()).toEqual(['v1', 'v2']);
      expect(slowResult.status).toBe(200);
      expect(slowResult.body).toContain('v1 slept 2');
      expect(await served()).toBe('v2');
    });

    it('a failing health check exits 1 and leaves the old version serving', async () => {
      const r = await proxyDeploy(ids.bad!, ' --deploy-timeout="3s"');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('Error: target failed to become healthy within configured timeout (3s)');
      expect(await served()).toBe('v2');
    });

    it('stop and resume (kamal app maintenance / live)', async () => {
      expect((await ssh('docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="10s" --message="Hi"')).code).toBe(0);
      const r = await httpGet(h1.ip, '/');
      expect(r.status).toBe(503);
      expect(r.body).toContain('Hi');
      expect((await httpGet(h1.ip, '/up')).status).toBe(200);
      expect((await ssh('docker exec kamal-proxy kamal-proxy resume app-web')).code).toBe(0);
      expect(await served()).toBe('v2');
    });

    it('keeps its routes across a proxy restart', async () => {
      await ssh('docker restart kamal-proxy');
      const v = await waitFor(
        'proxy to serve again',
        async () => {
          const r = await httpGet(h1.ip, '/version').catch(() => null);
          return r && r.status === 200 ? r.body.trim() : null;
        },
        { timeoutMs: 30_000 },
      );
      expect(v).toBe('v2');
      const state = await ssh('docker exec kamal-proxy cat /home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state');
      expect(JSON.parse(state.stdout)[0]).toMatchObject({ name: 'app-web', active_targets: [`${ids.v2}:80`] });
    });

    afterAll(async () => {
      if (h1) await resetHost(h1);
    });
  });

  describe('fault helpers', () => {
    const h = info?.hosts[info.hosts.length - 1];
    const sshOk = async () => (await sshExec(h, 'docker ps -q', { allowFailure: true, timeoutMs: 15_000 })).code === 0;

    beforeAll(async () => {
      await resetHost(h);
      await registryLogin(h);
      await hostExec(
        h,
        `docker network create kamal >/dev/null && docker run -d --restart unless-stopped --name app-web-v1 --network kamal ${info.appRepo}:v1 >/dev/null`,
      );
    });

    it('restartHostDockerd keeps sshd up and restarts unless-stopped containers', async () => {
      await restartHostDockerd(h);
      expect(await sshOk()).toBe(true);
      const r = await waitFor(
        'app to run again',
        async () => {
          const ps = await hostExec(h, "docker ps --format '{{.Names}}'");
          return ps.stdout.includes('app-web-v1') ? ps.stdout : null;
        },
        { timeoutMs: 30_000 },
      );
      expect(r).toContain('app-web-v1');
    });

    it('stopHostDockerd / startHostDockerd', async () => {
      await stopHostDockerd(h);
      const r = await sshExec(h, 'docker ps', { allowFailure: true });
      expect(r.code).not.toBe(0);
      await startHostDockerd(h);
      expect(await sshOk()).toBe(true);
    });

    it('killSshd refuses new connections until startSshd', async () => {
      await killSshd(h);
      expect(await sshOk()).toBe(false);
      await startSshd(h);
      expect(await sshOk()).toBe(true);
    });

    it('disconnectHost / reconnectHost', async () => {
      await disconnectHost(h);
      expect(await sshOk()).toBe(false);
      await reconnectHost(h);
      expect(await sshOk()).toBe(true);
      expect((await hostExec(h, `docker pull -q ${info.appRepo}:v2`)).code).toBe(0);
    });

    it('stopRegistry / startRegistry', async () => {
      await stopRegistry();
      expect(await registryReady()).toBe(false);
      const pull = await hostExec(h, `docker pull ${info.dbImage}`, { allowFailure: true });
      expect(pull.code).not.toBe(0);
      await startRegistry();
      expect(await registryReady()).toBe(true);
    });

    it('restartHost reboots the host; resetHost undoes any fault', async () => {
      await restartHost(h);
      expect(await sshOk()).toBe(true);
      await killSshd(h);
      await disconnectHost(h);
      await resetHost(h);
      expect(await sshOk()).toBe(true);
      expect((await hostExec(h, 'docker ps -aq; docker network ls -q --filter type=custom; ls -A /root')).stdout.trim().split('\n').sort()).toEqual([
        '.bashrc',
        '.profile',
        '.ssh',
      ]);
    });
  });
});
