/**
 * The cases of "Real World Kamal" (Kamal v2 in production: a MySQL accessory, a cron role,
 * destinations, syslog logging, proxy tuning, a userns-remapped host and the day-two
 * commands), each run for real on the lab over SSH. The lab's additions for them
 * (MariaDB from Debian's packages, the app on the Debian root with cron, an rsyslog
 * receiver, a userns-remapped host) come from test/lab/article.sh.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry } from '../../src/exec/kamal-shim.js';
import { ensureArticleLab, httpGet as labHttp, waitFor, type ArticleLabInfo } from '../lab/lab.js';
import { httpGet, kamal, lab, labProxyYaml, onHost, ROOT, Traffic, type KamalRun, type LabHost } from './helpers.js';

const SERVICE = 'article';
const ROOT_PW = 'r00t-pw-article';

let art: ArticleLabInfo;
let vm1: LabHost;
let vm2: LabHost;
let vm3: LabHost;
let vm9: LabHost;
const figures: string[] = [];

interface ArticleProject {
  /** deploy.yml after the service/image/registry/ssh/builder preamble. */
  yaml: string;
  user?: string;
  files?: Record<string, string>;
  hooks?: Record<string, string>;
  secrets?: Record<string, string>;
}

/** A project folder for the article's app: its deploy.yml, .kamal/secrets* and hooks. */
function project(p: ArticleProject): string {
  const l = lab();
  const dir = mkdtempSync(join(tmpdir(), 'kamal-article-'));
  mkdirSync(join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, '.kamal/hooks'), { recursive: true });
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    `service: ${SERVICE}
image: lab/${SERVICE}
registry:
  server: ${l.registry.server}
  username: ${l.registry.username}
  password:
    - KAMAL_REGISTRY_PASSWORD
ssh:
  user: ${p.user ?? 'root'}
  keys: [${l.ssh.key}]
  keys_only: true
builder:
  arch: amd64
${p.yaml}`,
  );
  const secrets = p.secrets ?? { '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\n' };
  for (const [name, body] of Object.entries({ ...secrets, ...(p.files ?? {}) })) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  for (const [name, body] of Object.entries(p.hooks ?? {})) {
    writeFileSync(join(dir, '.kamal/hooks', name), body);
    chmodSync(join(dir, '.kamal/hooks', name), 0o755);
  }
  return dir;
}

/** The proxy section of the article's app, on the lab's stand-in image unless `run` is false (boot_config decides). */
function proxyYaml(host: string, extra = '', run = true): string {
  return labProxyYaml(host, 20, { extra, run });
}

/** boot_config options for the lab's proxy image: Kamal names it <registry>/<repository>/kamal-proxy:<version>. */
function bootImage(): string[] {
  const p = lab().proxyImage;
  return ['--registry', p.registry, '--repository', p.repository.replace(/\/kamal-proxy$/, ''), '--image_version', p.version];
}

/** The CLI in this process, trusting the article's hosts too (vm9). */
function run(dir: string, args: string[], env: Record<string, string> = {}): Promise<KamalRun> {
  return kamal(dir, args, { KAMAL_ACTION_KNOWN_HOSTS: art.knownHosts, ...env });
}

async function ok(dir: string, args: string[], env: Record<string, string> = {}): Promise<KamalRun> {
  const r = await run(dir, args, env);
  expect(r.exitCode, `${args.join(' ')}\n${r.err}\n${r.out}`).toBe(0);
  return r;
}

/** Everything a run showed: its output, the reporter's text and each host's output. */
function shown(r: KamalRun): string {
  return [r.out, r.reporter.text, ...r.reporter.outputs.map((o) => o.output)].join('\n');
}

/** The CLI as its own process (for a terminal or a signal), from the source with tsx. */
function cliArgv(args: string[]): string[] {
  const cli = cliEntry();
  return [cli.command, ...cli.args, ...args];
}

function cliEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TERM: 'xterm',
    LAB_REGISTRY_PASSWORD: lab().registry.password,
    KAMAL_ACTION_KNOWN_HOSTS: art.knownHosts,
  };
}

interface PtyResult {
  output: string;
  code: number;
  timedOut: boolean;
}

type PtyStep = { expect: string } | { send: string } | { sleep: number } | { resize: [number, number] };

/** Runs the CLI in a pseudo-terminal (test/e2e/pty-driver.py) and plays `steps` against it. */
function inPty(dir: string, args: string[], steps: PtyStep[], timeoutS = 60): Promise<PtyResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [join(ROOT, 'test/e2e/pty-driver.py'), JSON.stringify(steps), '--', ...cliArgv(args)], {
      cwd: dir,
      env: { ...cliEnv(), PTY_TIMEOUT: String(timeoutS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as PtyResult);
      } catch {
        reject(new Error(`pty driver: ${err || out}`));
      }
    });
  });
}

/** A POST of `bytes` bytes through the proxy. */
function post(ip: string, path: string, hostHeader: string, bytes: number): Promise<{ status: number; body: string }> {
  return labHttp(ip, path, { host: hostHeader, method: 'POST', body: Buffer.alloc(bytes, 'x'), timeoutMs: 10_000 });
}

function sql(h: LabHost, query: string): string {
  return onHost(h, `docker exec ${SERVICE}-db mariadb -uroot -p${ROOT_PW} -N -B -e ${JSON.stringify(query)}`);
}

/** Removes what these cases leave on a host: containers, the kamal network, the proxy's volume, ~/.kamal and accessory folders. */
function reset(h: LabHost): void {
  onHost(
    h,
    `docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker network rm kamal >/dev/null 2>&1; docker volume rm kamal-proxy-config >/dev/null 2>&1; rm -rf /root/.kamal /home/deploy/.kamal /root/${SERVICE}-db /home/deploy/${SERVICE}-db; true`,
  );
}

beforeAll(async () => {
  art = await ensureArticleLab();
  [vm1, vm2, vm3] = lab().hosts as [LabHost, LabHost, LabHost];
  vm9 = art.usernsHost;
  for (const h of [vm1, vm2, vm3, vm9]) reset(h);
}, 900_000);

afterAll(() => {
  if (figures.length) process.stderr.write(`\n[seed-article] ${figures.join('; ')}\n`);
});

describe('MySQL accessory (db): boot, reboot, exec --reuse, remove', () => {
  let dir: string;
  const CNF = '[mysqld]\nwait_timeout = 1234\nmax_allowed_packet = 32M\n';

  beforeAll(async () => {
    dir = project({
      yaml: `servers:
  web:
    hosts: [${vm1.ip}]
${proxyYaml('db.article.test')}accessories:
  db:
    image: ${art.mariadbImage}
    host: ${vm1.ip}
    port: "127.0.0.1:3306:3306"
    cmd: --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --max-connections=77
    env:
      clear:
        MYSQL_ROOT_HOST: "%"
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - config/mysql/production.cnf:/etc/mysql/conf.d/production.cnf
    directories:
      - data:/var/lib/mysql
    options:
      cap-add: sys_nice
`,
      files: { 'config/mysql/production.cnf': CNF },
      secrets: { '.kamal/secrets': `KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nMYSQL_ROOT_PASSWORD=${ROOT_PW}\n` },
    });
    await ok(dir, ['deploy', '-P', '--version', 'v1']);
  });

  it('accessory boot db: the server runs with sys_nice, the cmd options, the conf.d file, the data directory and the port on 127.0.0.1', async () => {
    await ok(dir, ['accessory', 'boot', 'db']);
    await waitFor(
      'mariadb answers',
      async () => {
        try {
          return sql(vm1, 'SELECT 1') === '1';
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(onHost(vm1, `docker inspect -f '{{.HostConfig.CapAdd}}' ${SERVICE}-db`)).toMatch(/sys_nice/i);
    // CAP_SYS_NICE (bit 23) is in the server's bounding set
    const capBnd = BigInt('0x' + onHost(vm1, `docker exec ${SERVICE}-db sh -c "grep CapBnd /proc/1/status | cut -f2"`));
    expect((capBnd >> 23n) & 1n).toBe(1n);
    expect(sql(vm1, 'SELECT @@max_connections, @@character_set_server, @@collation_server')).toBe('77\tutf8mb4\tutf8mb4_unicode_ci');
    expect(sql(vm1, 'SELECT @@wait_timeout, @@max_allowed_packet')).toBe(`1234\t${32 * 1024 * 1024}`);
    expect(onHost(vm1, `docker port ${SERVICE}-db`)).toBe('3306/tcp -> 127.0.0.1:3306');
    expect(onHost(vm1, `ls /root/${SERVICE}-db/data`)).toMatch(/\bmysql\b/);
    // the password came from .kamal/secrets through the env file, never the command line
    expect(onHost(vm1, `docker inspect -f '{{json .Config.Cmd}}' ${SERVICE}-db`)).not.toContain(ROOT_PW);
  });

  it('a row written survives accessory reboot db', async () => {
    sql(
      vm1,
      'CREATE DATABASE IF NOT EXISTS shop; CREATE TABLE IF NOT EXISTS shop.orders (id INT PRIMARY KEY, item VARCHAR(40)); REPLACE INTO shop.orders VALUES (1, "kamal mug")',
    );
    const before = onHost(vm1, `docker inspect -f '{{.Id}}' ${SERVICE}-db`);
    await ok(dir, ['accessory', 'reboot', 'db']);
    expect(onHost(vm1, `docker inspect -f '{{.Id}}' ${SERVICE}-db`)).not.toBe(before);
    await waitFor(
      'mariadb answers after the reboot',
      async () => {
        try {
          return sql(vm1, 'SELECT item FROM shop.orders WHERE id = 1') === 'kamal mug';
        } catch {
          return false;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it('accessory exec db --reuse "mariadb ..." answers from the running server', async () => {
    const r = await ok(dir, ['accessory', 'exec', 'db', '--reuse', `sh -c 'mariadb -uroot -p"$MYSQL_ROOT_PASSWORD" -N -e "SELECT item FROM shop.orders"'`]);
    expect(shown(r)).toContain('kamal mug');
    expect(shown(r) + r.err).not.toContain(ROOT_PW);
  });

  it('accessory remove db removes the container, its image and the relative data directory', async () => {
    await ok(dir, ['accessory', 'remove', 'db', '-y']);
    expect(onHost(vm1, `docker ps -a --filter name=${SERVICE}-db -q`)).toBe('');
    expect(onHost(vm1, `test -e /root/${SERVICE}-db && echo present || echo gone`)).toBe('gone');
  });
});

describe('Roles: web, job and cron on one host; syslog logging', () => {
  let dir: string;

  beforeAll(async () => {
    reset(vm2);
    dir = project({
      yaml: `servers:
  web:
    hosts: [${vm2.ip}]
  job:
    hosts: [${vm2.ip}]
    cmd: sh -c "while true; do echo job-tick version=$VERSION; sleep 2; done"
    logging:
      options:
        tag: article-job
  cron:
    hosts: [${vm2.ip}]
    cmd: bash -c "(env && cat config/crontab) | crontab - && cron -f"
    env:
      clear:
        ROLE_NAME: cron
env:
  clear:
    JOB_TOKEN: tok-article
logging:
  driver: syslog
  options:
    syslog-address: ${art.syslog.address}
    tag: article-{{.Name}}
${proxyYaml('roles.article.test')}`,
    });
    await ok(dir, ['deploy', '-P', '--version', 'v1']);
  });

  it('web, job and cron run side by side on the same host, web serves', async () => {
    const names = onHost(vm2, `docker ps --filter label=service=${SERVICE} --format '{{.Label "role"}}' | sort`).split('\n');
    expect(names).toEqual(['cron', 'job', 'web']);
    expect((await httpGet(vm2.ip, '/', 'roles.article.test')).body.trim()).toBe('v1');
  });

  it('cron role: the crontab from config/crontab runs and the job sees the app env', async () => {
    const cron = onHost(vm2, `docker ps --filter label=service=${SERVICE} --filter label=role=cron -q`);
    expect(onHost(vm2, `docker exec ${cron} crontab -l`)).toContain('/app/bin/job');
    const line = await waitFor(
      'the cron job to run (once a minute)',
      async () => {
        const log = onHost(vm2, `docker exec ${cron} sh -c 'cat /tmp/cron.log 2>/dev/null || true'`);
        return log.split('\n').find((l) => l.startsWith('cron-job ran')) || undefined;
      },
      { timeoutMs: 90_000, intervalMs: 2000 },
    );
    expect(line).toMatch(/VERSION=v1 JOB_TOKEN=tok-article ROLE_NAME=cron$/);
  });

  it('logging driver syslog, globally and per role: the app lines arrive at the lab syslog with their tags', async () => {
    const log = () => execSyslog(`cat ${art.syslog.file}`);
    const web = onHost(vm2, `docker ps --filter label=service=${SERVICE} --filter label=role=web --format '{{.Names}}'`);
    const found = await waitFor(
      'web and job lines at lab-syslog',
      async () => {
        const text = log();
        const webLine = text.split('\n').find((l) => l.includes(`article-${web}`) && l.includes('app version=v1'));
        const jobLine = text.split('\n').find((l) => l.includes('article-job') && l.includes('job-tick version=v1'));
        return webLine && jobLine ? { webLine, jobLine } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(found.webLine).toContain('app version=v1');
    expect(onHost(vm2, `docker inspect -f '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "syslog-address"}}' ${web}`)).toBe(
      `syslog ${art.syslog.address}`,
    );
  });
});

/** A command inside the lab's syslog receiver. */
function execSyslog(cmd: string): string {
  return execFileSync('docker', ['exec', art.syslog.container, 'sh', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

describe('Destinations: staging and production on different hosts', () => {
  let dir: string;

  beforeAll(() => {
    reset(vm1);
    reset(vm3);
    dir = project({
      yaml: `env:
  secret:
    - APP_SECRET
${proxyYaml('dest.article.test')}`,
      files: {
        'config/deploy.staging.yml': `servers:\n  web:\n    hosts: [${vm1.ip}]\n`,
        'config/deploy.production.yml': `servers:\n  web:\n    hosts: [${vm3.ip}]\n`,
      },
      secrets: {
        '.kamal/secrets-common': 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nAPP_SECRET=common-secret\n',
        '.kamal/secrets.staging': 'APP_SECRET=staging-secret\n',
        '.kamal/secrets.production': 'APP_SECRET=production-secret\n',
      },
      hooks: { 'pre-deploy': '#!/bin/sh\necho "$KAMAL_DESTINATION $KAMAL_VERSION" >> hook.log\n' },
    });
  });

  it('-d staging and -d production each serve their own version, with secrets-common plus secrets.<dest>, KAMAL_DESTINATION in the hook', async () => {
    await ok(dir, ['deploy', '-P', '-d', 'staging', '--version', 'v1']);
    await ok(dir, ['deploy', '-P', '-d', 'production', '--version', 'v2']);
    expect((await httpGet(vm1.ip, '/', 'dest.article.test')).body.trim()).toBe('v1');
    expect((await httpGet(vm3.ip, '/', 'dest.article.test')).body.trim()).toBe('v2');
    expect(onHost(vm1, `docker ps --filter label=service=${SERVICE} --format '{{.Label "destination"}}'`)).toBe('staging');
    expect(onHost(vm3, `docker ps --filter label=service=${SERVICE} --format '{{.Label "destination"}}'`)).toBe('production');
    const staging = await ok(dir, ['app', 'exec', '-d', 'staging', '--reuse', 'printenv APP_SECRET']);
    expect(shown(staging)).toContain('staging-secret');
    const production = await ok(dir, ['app', 'exec', '-d', 'production', '--reuse', 'printenv APP_SECRET']);
    expect(shown(production)).toContain('production-secret');
    expect(readFileSync(join(dir, 'hook.log'), 'utf8')).toBe('staging v1\nproduction v2\n');
  });
});

describe('Non-root user: the whole deploy as deploy (docker group)', () => {
  it('setup, deploy and a second deploy under traffic run as deploy, files under /home/deploy', async () => {
    reset(vm3);
    const dir = project({ user: 'deploy', yaml: `servers:\n  web:\n    hosts: [${vm3.ip}]\n${proxyYaml('deploy-user.article.test')}` });
    await ok(dir, ['setup', '-P', '--version', 'v1']);
    const traffic = new Traffic([{ ip: vm3.ip, host: 'deploy-user.article.test' }]).start();
    await ok(dir, ['deploy', '-P', '--version', 'v2']);
    const t = await traffic.stop();
    figures.push(`deploy as deploy: ${t.served} served, ${t.failed} failed`);
    expect(t.failed, traffic.failures.join('\n')).toBe(0);
    expect((await httpGet(vm3.ip, '/', 'deploy-user.article.test')).body.trim()).toBe('v2');
    expect(onHost(vm3, `ls /home/deploy/.kamal/apps/${SERVICE}/env/roles`)).toContain('web.env');
    expect(onHost(vm3, `stat -c %U /home/deploy/.kamal/apps/${SERVICE}/env/roles/web.env`)).toBe('deploy');
    expect(onHost(vm3, 'test -e /root/.kamal && echo present || echo absent')).toBe('absent');
  });
});

describe('Proxy tuning: buffering with max_request_body, boot_config with the article options, then proxy reboot', () => {
  let dir: string;
  const HOST = 'tuned.article.test';

  beforeAll(async () => {
    reset(vm1);
    dir = project({
      yaml: `servers:\n  web:\n    hosts: [${vm1.ip}]\n${proxyYaml(HOST, '  buffering:\n    requests: true\n    responses: true\n    max_request_body: 1024\n    memory: 2048\n', false)}`,
    });
    await ok(dir, ['proxy', 'boot_config', 'set', ...bootImage()]);
    await ok(dir, ['deploy', '-P', '--version', 'v1']);
  });

  it('buffering: a request body over max_request_body gets 413, one under it passes', async () => {
    const over = await post(vm1.ip, '/cgi-bin/slow?0', HOST, 4096);
    expect(over.status).toBe(413);
    const under = await post(vm1.ip, '/cgi-bin/slow?0', HOST, 512);
    expect(under.status).toBe(200);
    expect(under.body).toContain('v1 slept 0');
  });

  it('proxy boot_config set with ports, --docker-options (syslog driver, userns=host) and --log-max-size="", then proxy reboot: the proxy runs with exactly those options', async () => {
    await ok(dir, [
      'proxy',
      'boot_config',
      'set',
      ...bootImage(),
      '--http-port',
      '80',
      '--https-port',
      '443',
      '--docker-options',
      'log-driver=syslog',
      `log-opt=syslog-address=${art.syslog.address}`,
      'log-opt=tag=kamal-proxy',
      'userns=host',
      '--log-max-size=',
    ]);
    const got = shown(await ok(dir, ['proxy', 'boot_config', 'get']));
    expect(got).toContain(`--log-driver=syslog --log-opt=syslog-address=${art.syslog.address} --log-opt=tag=kamal-proxy --userns=host`);
    expect(got).not.toContain('max-size');
    const traffic = new Traffic([{ ip: vm1.ip, host: HOST }]).start();
    await ok(dir, ['proxy', 'reboot', '-y']);
    await waitFor(
      'the app served through the rebooted proxy',
      async () => (await httpGet(vm1.ip, '/', HOST).catch(() => ({ status: 0, body: '' }))).status === 200,
      { timeoutMs: 30_000 },
    );
    const t = await traffic.stop();
    figures.push(`proxy reboot (boot_config options): ${t.served} served, ${t.failed} failed`);
    const inspect = onHost(
      vm1,
      `docker inspect -f '{{.HostConfig.LogConfig.Type}}|{{json .HostConfig.LogConfig.Config}}|{{.HostConfig.UsernsMode}}|{{json .HostConfig.PortBindings}}' kamal-proxy`,
    );
    const [driver, logConfig, userns, ports] = inspect.split('|');
    expect(driver).toBe('syslog');
    expect(JSON.parse(logConfig!)).toEqual({ 'syslog-address': art.syslog.address, tag: 'kamal-proxy' });
    expect(userns).toBe('host');
    expect(Object.keys(JSON.parse(ports!)).sort()).toEqual(['443/tcp', '80/tcp']);
    expect((await httpGet(vm1.ip, '/', HOST)).body.trim()).toBe('v1');
    await waitFor('kamal-proxy lines at lab-syslog', async () => execSyslog(`cat ${art.syslog.file}`).includes('kamal-proxy'), { timeoutMs: 20_000 });
  });
});

describe('userns-remap host (vm9)', () => {
  const HOST = 'userns.article.test';
  let dir: string;

  function usernsProject(role = 'web'): string {
    return project({ yaml: `${role === 'web' ? '' : `primary_role: ${role}\n`}servers:\n  ${role}:\n    hosts: [${vm9.ip}]\n${proxyYaml(HOST, '', false)}` });
  }

  beforeAll(() => {
    reset(vm9);
    dir = usernsProject();
  });

  it('the host runs dockerd with userns-remap: containers get a remapped root', () => {
    expect(onHost(vm9, "docker info --format '{{.SecurityOptions}}'")).toContain('userns');
  });

  it('proxy without userns=host runs in the remapped namespace; with --docker-options userns=host it runs in the host namespace and the deploy serves', async () => {
    const base = bootImage();
    await ok(dir, ['proxy', 'boot_config', 'set', ...base]);
    await ok(dir, ['deploy', '-P', '--version', 'v1']);
    const remapped = onHost(vm9, 'docker exec kamal-proxy cat /proc/self/uid_map').trim().split(/\s+/);
    expect(remapped[1]).not.toBe('0');
    await ok(dir, ['proxy', 'boot_config', 'set', ...base, '--docker-options', 'userns=host']);
    await ok(dir, ['proxy', 'reboot', '-y']);
    expect(onHost(vm9, "docker inspect -f '{{.HostConfig.UsernsMode}}' kamal-proxy")).toBe('host');
    expect(onHost(vm9, 'docker exec kamal-proxy cat /proc/self/uid_map').trim().split(/\s+/)).toEqual(['0', '0', '4294967295']);
    await ok(dir, ['deploy', '-P', '--version', 'v2']);
    expect((await httpGet(vm9.ip, '/', HOST)).body.trim()).toBe('v2');
  });

  it('host settings conflict after a role rename: the error names the old service and the fix', async () => {
    const renamed = usernsProject('app');
    const r = await run(renamed, ['deploy', '-P', '--version', 'v2']);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain('host settings conflict with another service');
    expect(r.err).toContain(`${SERVICE}-web`);
    expect(r.err).toContain(`kamal-proxy remove ${SERVICE}-web`);
    // the old route still serves
    expect((await httpGet(vm9.ip, '/', HOST)).body.trim()).toBe('v2');
  });
});

describe('Day-two commands under live traffic', () => {
  let dir: string;
  const HOST = 'day2.article.test';

  beforeAll(async () => {
    reset(vm1);
    dir = project({ yaml: `servers:\n  web:\n    hosts: [${vm1.ip}]\n${proxyYaml(HOST)}` });
    await ok(dir, ['deploy', '-P', '--version', 'v1']);
    await ok(dir, ['deploy', '-P', '--version', 'v2']);
  });

  it('app exec --reuse runs in the running container', async () => {
    const r = await ok(dir, ['app', 'exec', '--reuse', 'printenv VERSION']);
    expect(shown(r)).toContain('v2');
    const running = onHost(vm1, `docker ps --filter label=service=${SERVICE} --format '{{.Names}}'`);
    expect(running.split('\n')).toHaveLength(1);
  });

  it('app exec -i through a pseudo-terminal: a shell in the app container, its answer, its exit code', async () => {
    const r = await inPty(
      dir,
      ['app', 'exec', '-i', '--reuse', 'sh'],
      [{ expect: '#' }, { send: 'echo answer-$((6*7)) $VERSION\n' }, { expect: 'answer-42 v2' }, { send: 'exit 3\n' }],
    );
    expect(r.timedOut, r.output).toBe(false);
    expect(r.output).toContain('answer-42 v2');
    expect(r.code).toBe(3);
  });

  it('app logs -f streams, stopped after a line with Ctrl-C', async () => {
    const r = await inPty(dir, ['app', 'logs', '-f'], [{ expect: 'app version=v2' }, { send: '\x03' }], 40);
    expect(r.timedOut, r.output).toBe(false);
    expect(r.output).toContain('app version=v2');
  });

  it('app version, app images and proxy details', async () => {
    expect(shown(await ok(dir, ['app', 'version']))).toContain('v2');
    const images = shown(await ok(dir, ['app', 'images']));
    expect(images).toContain(`lab/${SERVICE}`);
    expect(images).toMatch(/v1[\s\S]*v2|v2[\s\S]*v1/);
    const details = shown(await ok(dir, ['proxy', 'details']));
    expect(details).toContain('kamal-proxy');
    expect(details).toMatch(/Up /);
  });

  it('app boot --version v1 as a rollback under traffic: no failed request, v1 serves', async () => {
    const traffic = new Traffic([{ ip: vm1.ip, host: HOST }]).start();
    await ok(dir, ['app', 'boot', '--version', 'v1']);
    const t = await traffic.stop();
    figures.push(`app boot --version (rollback): ${t.served} served, ${t.failed} failed`);
    expect(t.failed, traffic.failures.join('\n')).toBe(0);
    expect((await httpGet(vm1.ip, '/', HOST)).body.trim()).toBe('v1');
  });

  it('proxy reboot under traffic: the failed requests are counted (kamal-proxy restarts, connections drop)', async () => {
    const traffic = new Traffic([{ ip: vm1.ip, host: HOST }]).start();
    await new Promise((r) => setTimeout(r, 500));
    await ok(dir, ['proxy', 'reboot', '-y']);
    await waitFor('served again after the reboot', async () => (await httpGet(vm1.ip, '/', HOST).catch(() => ({ status: 0, body: '' }))).status === 200, {
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 500));
    const t = await traffic.stop();
    figures.push(`proxy reboot under traffic: ${t.served} served, ${t.failed} failed`);
    process.stderr.write(`[seed-article] proxy reboot under traffic: ${t.served} served, ${t.failed} failed\n`);
    expect(t.served).toBeGreaterThan(0);
    expect((await httpGet(vm1.ip, '/', HOST)).body.trim()).toBe('v1');
  });
});
