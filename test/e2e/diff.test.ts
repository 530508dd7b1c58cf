/**
 * `diff` against the lab over real SSH: after a deploy of v1, a changed clear env value, a new
 * clear key, a changed secret and version v2 are reported, exactly those, and no host is touched
 * (containers, env files, the audit log and every file under .kamal, kamal-proxy's state).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts, type LabHost } from './helpers.js';
import type { DiffReport } from '../../src/engine/diff.js';
import { MAIN, inputEnv, printedForms, readFileCommands, runNode, runnerView } from '../unit/action/runner-log.js';

const HOST = 'diff.lab.test';
const OLD_SECRET = 'old-s3cret-"value"/with+chars';
const NEW_SECRET = 'new-s3cret-$(not run)-value';

function config(hosts: LabHost[], env: string, db = DB): string {
  return `servers:
  web:
    hosts:
${hosts.map((h) => `      - ${h.ip}\n`).join('')}proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
env:
${env}deploy_timeout: 20
drain_timeout: 1
readiness_delay: 0
accessories:
  db:
    image: ${lab().dbImage}
    host: ${hosts[0]!.ip}
${db}`;
}

const DB = `    port: "127.0.0.1:5432:5432"
    env:
      clear:
        DB_NAME: labdb
      secret:
        - DB_PASSWORD
    directories:
      - data:/var/lib/db
    options:
      memory: 256m
      hostname: db-box
    labels:
      tier: data
`;

const V1_ENV = `  clear:
    GREETING: hello
    KEEP: same
  secret:
    - SECRET_TOKEN
`;
const V2_ENV = `  clear:
    GREETING: bonjour
    KEEP: same
    NEW_KEY: added-value
  secret:
    - SECRET_TOKEN
`;

/** Everything a diff must leave as it is on a host. */
function snapshot(h: LabHost): string {
  return onHost(
    h,
    [
      "docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.State}} {{.CreatedAt}}' | sort",
      "docker image ls --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort",
      'find .kamal -printf "%p %s %T@ %m\\n" | sort',
      'find .kamal -type f -exec sha256sum {} + | sort',
      'docker exec kamal-proxy cat /home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state | sha256sum',
    ].join('; echo ---; '),
  );
}

describe('diff against the lab', () => {
  let dir: string;
  const web = () => lab().hosts.slice(0, 2);
  const secrets = 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nSECRET_TOKEN=$SECRET_TOKEN\nDB_PASSWORD=db-pw-1\n';

  beforeAll(async () => {
    resetHosts(lab().hosts.slice(0, 3));
    dir = makeProject({ service: 'app', yaml: config(web(), V1_ENV), secrets });
    const r = await kamal(dir, ['setup', '--skip-push', '--version', 'v1'], { SECRET_TOKEN: OLD_SECRET });
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
  }, 240_000);

  it('a diff of what runs reports nothing', async () => {
    const before = web().map(snapshot);
    const r = await kamal(dir, ['diff', '--version', 'v1', '--json'], { SECRET_TOKEN: OLD_SECRET });
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.reporter.text) as DiffReport;
    expect(report.roles.map((x) => [x.host, x.status, x.env, x.labels, x.options, x.volumes, x.proxy])).toEqual(
      web().map((h) => [h.ip, 'unchanged', [], [], [], [], []]),
    );
    expect(report.accessories.map((a) => [a.accessory, a.host, a.status, a.env, a.labels, a.options, a.volumes])).toEqual([
      ['db', web()[0]!.ip, 'unchanged', [], [], [], []],
    ]);
    expect(report.changed).toBe(false);
    expect(web().map(snapshot)).toEqual(before);
  }, 120_000);

  it('reports a changed env value, a new key, a changed secret and v1 → v2, and touches no host', async () => {
    const before = web().map(snapshot);
    writeFileSync(join(dir, 'config/deploy.yml'), config(web(), V2_ENV).replace(/^/, readDeployPreamble(dir)));
    const r = await kamal(dir, ['diff', '--version', 'v2', '--json'], { SECRET_TOKEN: NEW_SECRET });
    expect(r.err).toBe('');
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.reporter.text) as DiffReport;
    expect(report.changed).toBe(true);
    expect(report.version).toBe('v2');
    expect(report.hostsAdded).toEqual([]);
    expect(report.leftOut).toEqual([]);
    expect(report.accessories.map((a) => a.status)).toEqual(['unchanged']);
    expect(report.roles.map((x) => [x.role, x.host, x.status, x.runningVersion, x.version])).toEqual(web().map((h) => ['web', h.ip, 'changed', 'v1', 'v2']));
    for (const role of report.roles) {
      expect(role.image).toEqual({ running: `${lab().registry.server}/lab/app:v1`, desired: `${lab().registry.server}/lab/app:v2` });
      expect(role.env).toEqual([
        { key: 'NEW_KEY', change: 'added', to: 'added-value' },
        { key: 'GREETING', change: 'changed', to: 'bonjour' },
        { key: 'SECRET_TOKEN', change: 'changed', secret: true },
      ]);
      expect(role.labels).toEqual([]);
      expect(role.options).toEqual([]);
      expect(role.volumes).toEqual([]);
      expect(role.proxy).toEqual([]);
    }
    const all = `${r.out}${r.err}${JSON.stringify(r.reporter)}`;
    for (const s of [OLD_SECRET, NEW_SECRET, JSON.stringify(OLD_SECRET).slice(1, -1), Buffer.from(NEW_SECRET).toString('base64')]) {
      expect(all).not.toContain(s);
    }
    // only reads: docker ps / inspect, pwd, the env lines hashed on the host, kamal-proxy's state
    const READ = /^(pwd|docker ps |docker inspect |docker image inspect |docker exec kamal-proxy cat |sh -c .*docker ps |while IFS= read -r line;)/;
    expect(r.reporter.commands.filter((c) => !READ.test(c.command))).toEqual([]);
    expect(web().map(snapshot)).toEqual(before);
  }, 120_000);

  it('prints the text report: hosts added, proxy settings changed, nothing else', async () => {
    const hosts = lab().hosts.slice(0, 3);
    const yaml = config(hosts, V1_ENV).replace('    interval: 1\n', '    interval: 1\n    path: /version\n');
    writeFileSync(join(dir, 'config/deploy.yml'), yaml.replace(/^/, readDeployPreamble(dir)));
    const before = hosts.map(snapshot);
    const r = await kamal(dir, ['diff', '--version', 'v1'], { SECRET_TOKEN: OLD_SECRET });
    expect(r.exitCode).toBe(0);
    const [a, b, c] = hosts.map((h) => h.ip);
    expect(r.reporter.text).toBe(
      [
        `app: deploy of v1 (${lab().registry.server}/lab/app:v1)`,
        '',
        `web on ${a}: v1, redeployed with changes`,
        '  proxy:',
        '    ~ health-check-path: /up → /version',
        `web on ${b}: v1, redeployed with changes`,
        '  proxy:',
        '    ~ health-check-path: /up → /version',
        `web on ${c}: new, v1 would be its first container`,
        `hosts added (no container of app yet): ${c}`,
        `accessory db on ${a}: unchanged`,
        '',
        'A deploy would change what is listed above.',
        '',
      ].join('\n'),
    );
    expect(hosts.map(snapshot)).toEqual(before);
  }, 120_000);

  it('an accessory whose configuration changed, and a role left running where it is no longer configured', async () => {
    const hosts = web();
    const db = DB.replace('DB_NAME: labdb', 'DB_NAME: otherdb')
      .replace('127.0.0.1:5432:5432', '127.0.0.1:5433:5432')
      .replace('memory: 256m', 'memory: 512m')
      .replace('hostname: db-box', 'hostname: db-two');
    // web only on the first host; the second host now runs a job role
    const yaml = config(hosts, V1_ENV, db).replace(
      `    hosts:\n      - ${hosts[0]!.ip}\n      - ${hosts[1]!.ip}\n`,
      `    hosts:\n      - ${hosts[0]!.ip}\n  job:\n    hosts:\n      - ${hosts[1]!.ip}\n    cmd: sleep 1000\n`,
    );
    expect(yaml).toContain('  job:\n');
    writeFileSync(join(dir, 'config/deploy.yml'), yaml.replace(/^/, readDeployPreamble(dir)));
    const before = hosts.map(snapshot);
    const r = await kamal(dir, ['diff', '--version', 'v1', '--json'], { SECRET_TOKEN: OLD_SECRET });
    expect(r.err).toBe('');
    const report = JSON.parse(r.reporter.text) as DiffReport;
    expect(report.leftOut).toEqual([{ host: hosts[1]!.ip, role: 'web', version: 'v1' }]);
    expect(report.hostsAdded).toEqual([]);
    expect(report.roles.map((x) => `${x.role}@${x.host}:${x.status}`)).toEqual([`web@${hosts[0]!.ip}:unchanged`, `job@${hosts[1]!.ip}:new`]);
    expect(report.accessories).toEqual([
      {
        accessory: 'db',
        host: hosts[0]!.ip,
        status: 'changed',
        image: { running: lab().dbImage, desired: lab().dbImage },
        env: [{ key: 'DB_NAME', change: 'changed', to: 'otherdb' }],
        labels: [],
        options: [
          { key: '--hostname', change: 'changed', from: 'db-box', to: 'db-two' },
          { key: '--memory', change: 'changed', from: '268435456', to: '536870912' },
          { key: '--publish', change: 'changed', from: '127.0.0.1:5432:5432/tcp', to: '127.0.0.1:5433:5432/tcp' },
        ],
        volumes: [],
      },
    ]);
    expect(hosts.map(snapshot)).toEqual(before);
  }, 120_000);

  it('the action bundle run as a runner runs it: summary, outputs, one pull request comment, no secret anywhere, no host touched', async () => {
    writeFileSync(join(dir, 'config/deploy.yml'), config(web(), V2_ENV).replace(/^/, readDeployPreamble(dir)));
    // the REST API of the pull request's comments
    const requests: { method: string; path: string; body: string }[] = [];
    const api = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ method: req.method!, path: req.url!, body });
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        res.end(req.method === 'GET' ? '[]' : JSON.stringify({ id: 901 }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const step = mkdtempSync(join(tmpdir(), 'diff-action-'));
    const files = {
      GITHUB_OUTPUT: join(step, 'output'),
      GITHUB_STATE: join(step, 'state'),
      GITHUB_STEP_SUMMARY: join(step, 'summary'),
      GITHUB_EVENT_PATH: join(step, 'event.json'),
    };
    for (const f of Object.values(files)) writeFileSync(f, '');
    writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify({ pull_request: { number: 5 } }));
    const l = lab();
    const token = 'ghs_diffTokenValue123456';
    const before = web().map(snapshot);
    const run = await runNode(MAIN, {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: dir,
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_SHA: 'abc123',
      GITHUB_RUN_ID: '77',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      RUNNER_TEMP: step,
      ...files,
      ...inputEnv({
        command: 'diff',
        version: 'v2',
        'comment-on-pr': 'true',
        'github-token': token,
        'ssh-private-key': readFileSync(l.ssh.key, 'utf8'),
        'ssh-known-hosts': readFileSync(l.ssh.knownHosts, 'utf8'),
        secrets: JSON.stringify({ KAMAL_REGISTRY_PASSWORD: l.registry.password, SECRET_TOKEN: NEW_SECRET }),
      }),
    });
    await new Promise<void>((r) => api.close(() => r()));
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const outputs = readFileCommands(files.GITHUB_OUTPUT);
    expect(outputs.changed).toBe('true');
    expect(outputs.version).toBe('v2');
    const report = JSON.parse(outputs.report!) as DiffReport;
    expect(report.roles.map((r) => [r.host, r.runningVersion, r.version, r.env])).toEqual(
      web().map((h) => [
        h.ip,
        'v1',
        'v2',
        [
          { key: 'NEW_KEY', change: 'added', to: 'added-value' },
          { key: 'GREETING', change: 'changed', to: 'bonjour' },
          { key: 'SECRET_TOKEN', change: 'changed', secret: true },
        ],
      ]),
    );
    const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    expect(summary).toContain(`| web | ${web()[0]!.ip} | v1 | v2 | image, env 3 |`);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/shop/issues/5/comments?per_page=100',
      'POST /repos/acme/shop/issues/5/comments',
    ]);
    const comment = JSON.parse(requests[1]!.body) as { body: string };
    expect(comment.body.startsWith('<!-- kamal-action diff app -->\n### kamal-action diff')).toBe(true);
    // the log as the runner shows it: text lines and the commands it acts on, the masks aside
    const view = runnerView(run.stdout);
    expect(view.commands.filter((c) => c.name === 'add-mask').map((c) => c.value)).toContain(NEW_SECRET);
    const log = [...view.text, ...view.commands.filter((c) => c.name !== 'add-mask').map((c) => c.value)].join('\n');
    const everything = [log, readFileSync(files.GITHUB_OUTPUT, 'utf8'), summary, comment.body].join('\n');
    for (const s of [OLD_SECRET, NEW_SECRET, token].flatMap(printedForms)) expect(everything).not.toContain(s);
    expect(web().map(snapshot)).toEqual(before);
  }, 180_000);
});

/** The service/image/registry/ssh/builder lines makeProject wrote before the servers section. */
function readDeployPreamble(dir: string): string {
  const text = readFileSync(join(dir, 'config/deploy.yml'), 'utf8');
  return text.slice(0, text.indexOf('servers:'));
}
