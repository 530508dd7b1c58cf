/**
 * Day-two operations on the lab over real SSH: the `app` subcommands with
 * role, host and version filters, pruning, `details`/`audit`/`server exec`/
 * `registry`/`secrets`/`config`/aliases, bad arguments, `proxy boot_config`
 * with a reboot onto another port, and two apps sharing one host and proxy.
 */
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts, type KamalRun, type LabHost } from './helpers.js';

const HOST = 'app.lab.test';
const OTHER = 'other.lab.test';

function config(l = lab()): string {
  const [a, b, c] = l.hosts;
  return `servers:
  web:
    hosts:
      - ${a!.ip}
      - ${b!.ip}
  job:
    hosts:
      - ${c!.ip}
    cmd: sh -c "echo job $VERSION started; while true; do sleep 1; done"
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
env:
  secret:
    - APP_TOKEN
deploy_timeout: 10
drain_timeout: 1
readiness_delay: 0
retain_containers: 2
aliases:
  web-version: app version -r web
`;
}

const SECRETS = 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nAPP_TOKEN=tok-e2e-1234\n';

/** Host outputs of a run, sorted by host. */
const outputs = (r: KamalRun) => [...r.reporter.outputs].sort((x, y) => x.host.localeCompare(y.host, 'en', { numeric: true }));
const byHost = (r: KamalRun) => outputs(r).map((o) => [o.host, o.output]);
/** Remote commands a run sent; local ones (hooks, docker on this machine) are left out. */
const remote = (r: KamalRun) => r.reporter.commands.filter((c) => c.host !== 'local');
const names = (h: LabHost, filter = 'label=service=app', all = true) =>
  onHost(h, `docker ps ${all ? '-a' : ''} --filter ${filter} --format '{{.Names}}' | sort`);

function ok(r: KamalRun): KamalRun {
  expect(r.exitCode, r.err).toBe(0);
  return r;
}

describe('day-two operations on the lab', () => {
  let dir: string;
  let h1: LabHost, h2: LabHost, h3: LabHost;

  beforeAll(async () => {
    resetHosts();
    [h1, h2, h3] = lab().hosts as [LabHost, LabHost, LabHost];
    dir = makeProject({ yaml: config(), secrets: SECRETS });
    ok(await kamal(dir, ['deploy', '-P', '--version', 'v1']));
    ok(await kamal(dir, ['deploy', '-P', '--version', 'v2']));
  });

  describe('app', () => {
    it('app version prints the running version per host, filtered by -r and -H', async () => {
      expect(byHost(ok(await kamal(dir, ['app', 'version'])))).toEqual([
        [h1.ip, 'v2'],
        [h2.ip, 'v2'],
        [h3.ip, 'v2'],
      ]);
      expect(byHost(ok(await kamal(dir, ['app', 'version', '-r', 'job'])))).toEqual([[h3.ip, 'v2']]);
      expect(byHost(ok(await kamal(dir, ['app', 'version', '-h', h2.ip])))).toEqual([[h2.ip, 'v2']]);
      expect(byHost(ok(await kamal(dir, ['app', 'version', '--hosts', `${h1.ip},${h3.ip}`])))).toEqual([
        [h1.ip, 'v2'],
        [h3.ip, 'v2'],
      ]);
    });

    it('app containers, images and details show what each host has', async () => {
      const containers = ok(await kamal(dir, ['app', 'containers', '-h', h1.ip]));
      expect(outputs(containers)).toHaveLength(1);
      const lines = outputs(containers)[0]!.output.split('\n');
      expect(lines[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND/);
      expect(
        lines
          .slice(1)
          .map((l) => l.split(/\s+/).pop())
          .sort(),
      ).toEqual(['app-web-v1', 'app-web-v2']);

      const images = ok(await kamal(dir, ['app', 'images', '-r', 'job']));
      expect(outputs(images).map((o) => o.host)).toEqual([h3.ip]);
      const tags = outputs(images)[0]!
        .output.split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 2).join(':'));
      expect(tags).toEqual(expect.arrayContaining(['registry:5000/lab/app:v1', 'registry:5000/lab/app:v2', 'registry:5000/lab/app:latest']));

      // details: the running container of each role on each host
      const details = ok(await kamal(dir, ['app', 'details']));
      const d = outputs(details).map((o) => [
        o.host,
        o.output
          .split('\n')
          .slice(1)
          .map((l) => l.split(/\s+/).pop()),
      ]);
      expect(d).toEqual([
        [h1.ip, ['app-web-v2']],
        [h2.ip, ['app-web-v2']],
        [h3.ip, ['app-job-v2']],
      ]);
    });

    it('app exec --reuse runs in the live container; without it in a new container of the version asked for', async () => {
      // only the running container wrote /srv/app/index.html at start
      const reuse = ok(await kamal(dir, ['app', 'exec', '--reuse', '-r', 'web', 'cat /srv/app/index.html']));
      expect(byHost(reuse)).toEqual([
        [h1.ip, 'v2'],
        [h2.ip, 'v2'],
      ]);
      expect(reuse.reporter.messages.map((m) => m.message)).toContain('Launching command with version v2 from existing container...');
      const hostname = ok(await kamal(dir, ['app', 'exec', '--reuse', '-h', h1.ip, '-r', 'web', 'hostname']));
      expect(byHost(hostname)).toEqual([[h1.ip, onHost(h1, 'docker inspect app-web-v2 --format {{.Config.Hostname}}')]]);

      const fresh = ok(
        await kamal(dir, ['app', 'exec', '-r', 'web', '-h', h1.ip, "sh -c 'cat /srv/app/index.html 2>/dev/null || echo absent; echo $VERSION $APP_TOKEN'"]),
      );
      expect(byHost(fresh)).toEqual([[h1.ip, 'absent\nv2 tok-e2e-1234']]);
      const old = ok(await kamal(dir, ['app', 'exec', '-r', 'job', '--version', 'v1', 'sh -c "echo $VERSION"']));
      expect(byHost(old)).toEqual([[h3.ip, 'v1']]);
      expect(old.reporter.messages.map((m) => m.message)).toContain('Launching command with version v1 from new container...');
      // -e takes Kamal's KEY:VALUE (and KEY=VALUE) pairs, before the other options and the command
      const env = ok(await kamal(dir, ['app', 'exec', '-e', 'GREETING:hello', 'NAME=lab', '-r', 'job', "sh -c 'echo $GREETING $NAME'"]));
      expect(byHost(env)).toEqual([[h3.ip, 'hello lab']]);
      // new containers are removed after the command
      for (const h of [h1, h3]) expect(onHost(h, "docker ps -a --filter name=exec --format '{{.Names}}'")).toBe('');
      // the audit log records both
      expect(onHost(h1, 'cat .kamal/app-audit.log')).toMatch(/\[web\] Executed cmd 'cat \/srv\/app\/index\.html' on app version v2$/m);
      expect(onHost(h3, 'cat .kamal/app-audit.log')).toMatch(/Executed cmd 'sh -c "echo \$VERSION"' on app version v1$/m);
    });

    it('app logs with --lines, --grep and --since', async () => {
      const marker = `marker-${process.pid}-${Date.now()}`;
      for (let i = 0; i < 3; i++) expect((await httpGet(h1.ip, `/${marker}/${i}`, HOST)).status).toBe(404);
      const grep = ok(await kamal(dir, ['app', 'logs', '-r', 'web', '--grep', marker, '-T']));
      const [g1, g2] = outputs(grep);
      expect(g1!.host).toBe(h1.ip);
      const matched = g1!.output.split('\n');
      expect(matched).toHaveLength(3);
      for (const [i, l] of matched.entries()) expect(l).toContain(`/${marker}/${i}`);
      // h2 got none of them: grep finds nothing there
      expect(g2).toEqual({ host: h2.ip, output: 'Nothing found', type: 'App' });

      const one = ok(await kamal(dir, ['app', 'logs', '-r', 'job', '--lines', '1']));
      expect(byHost(one)).toEqual([[h3.ip, expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z job v2 started$/)]]);
      const all = ok(await kamal(dir, ['app', 'logs', '-r', 'job', '-T', '--since', '2000-01-01T00:00:00Z']));
      expect(byHost(all)).toEqual([[h3.ip, 'job v2 started']]);
      const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const none = ok(await kamal(dir, ['app', 'logs', '-r', 'job', '-T', '--since', future]));
      expect(byHost(none)).toEqual([[h3.ip, '']]);
    });

    it('app stale_containers detects, then with --stop stops, a running container of another version', async () => {
      onHost(h1, 'docker start app-web-v1');
      const detect = ok(await kamal(dir, ['app', 'stale_containers', '-r', 'web']));
      expect(byHost(detect)).toEqual([
        [h1.ip, 'Detected stale container for role web with version v1 (use `kamal-action app stale_containers --stop` to stop)'],
      ]);
      expect(names(h1, 'label=role=web', false)).toBe('app-web-v1\napp-web-v2');
      const stop = ok(await kamal(dir, ['app', 'stale_containers', '--stop']));
      expect(byHost(stop)).toEqual([[h1.ip, 'Stopping stale container for role web with version v1']]);
      expect(names(h1, 'label=role=web', false)).toBe('app-web-v2');
      expect((await httpGet(h1.ip, '/', HOST)).body).toBe('v2\n');
    });

    it('app stop and start on one host, app boot of another version on one host and back', async () => {
      ok(await kamal(dir, ['app', 'stop', '-r', 'web', '-h', h1.ip]));
      expect(onHost(h1, "docker inspect app-web-v2 --format '{{.State.Status}}'")).toBe('exited');
      expect((await httpGet(h1.ip, '/', HOST)).status).toBe(404);
      expect(await httpGet(h2.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      expect(names(h3, 'label=service=app', false)).toBe('app-job-v2');

      // like Kamal, start takes the version of the container to start (from git, VERSION or --version)
      ok(await kamal(dir, ['app', 'start', '-r', 'web', '-h', h1.ip, '--version', 'v2']));
      expect(onHost(h1, "docker inspect app-web-v2 --format '{{.State.Status}}'")).toBe('running');
      await expect.poll(async () => (await httpGet(h1.ip, '/', HOST)).body, { timeout: 10_000 }).toBe('v2\n');

      ok(await kamal(dir, ['app', 'boot', '-r', 'web', '-h', h1.ip, '--version', 'v1']));
      expect(await httpGet(h1.ip, '/', HOST)).toEqual({ status: 200, body: 'v1\n' });
      expect(await httpGet(h2.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      expect(byHost(ok(await kamal(dir, ['app', 'version'])))).toEqual([
        [h1.ip, 'v1'],
        [h2.ip, 'v2'],
        [h3.ip, 'v2'],
      ]);
      ok(await kamal(dir, ['app', 'boot', '-r', 'web', '-h', h1.ip, '--version', 'v2']));
      expect(await httpGet(h1.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      // booting a version whose container exists renames that container aside first
      expect(names(h1, 'label=role=web', false)).toBe('app-web-v2');
      expect(names(h1, 'label=role=web')).toMatch(/^app-web-v1\napp-web-v1_replaced_[0-9a-f]{16}\napp-web-v2\napp-web-v2_replaced_[0-9a-f]{16}$/);
    });

    it('app maintenance answers 503 with the message through the proxy; app live restores 200', async () => {
      ok(await kamal(dir, ['app', 'maintenance', '--message', 'Back at noon']));
      for (const h of [h1, h2]) {
        const r = await httpGet(h.ip, '/', HOST);
        expect(r.status).toBe(503);
        expect(r.body).toContain('Back at noon');
      }
      ok(await kamal(dir, ['app', 'live']));
      for (const h of [h1, h2]) expect(await httpGet(h.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
    });
  });

  describe('prune', () => {
    const stopped = (h: LabHost) =>
      onHost(h, "docker ps -a --filter label=service=app --filter status=exited --format '{{.Names}}'").split('\n').filter(Boolean);

    it('redeploys pile up stopped containers; prune containers keeps retain_containers (2) of them, the newest', async () => {
      ok(await kamal(dir, ['redeploy', '-P', '--version', 'v1']));
      ok(await kamal(dir, ['redeploy', '-P', '--version', 'v2']));
      const before = new Map([h1, h2, h3].map((h) => [h.ip, stopped(h)]));
      for (const h of [h1, h2, h3]) expect(before.get(h.ip)!.length, h.ip).toBeGreaterThanOrEqual(3);
      ok(await kamal(dir, ['prune', 'containers']));
      for (const h of [h1, h2, h3]) {
        // docker ps lists the newest first
        expect(stopped(h), h.ip).toEqual(before.get(h.ip)!.slice(0, 2));
        expect(names(h, 'label=service=app', false), h.ip).toBe(h.ip === h3.ip ? 'app-job-v2' : 'app-web-v2');
      }
      ok(await kamal(dir, ['prune', 'containers', '--retain', '1', '-h', h2.ip]));
      expect(stopped(h2)).toEqual(before.get(h2.ip)!.slice(0, 1));
      expect(stopped(h1)).toHaveLength(2);
      for (const h of [h1, h2]) expect(await httpGet(h.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
    });
  });

  describe('misc', () => {
    it('details shows the proxy and the app containers of every host', async () => {
      const r = ok(await kamal(dir, ['details']));
      const proxy = outputs(r).filter((o) => o.type === 'Proxy');
      expect(proxy.map((o) => o.host)).toEqual([h1.ip, h2.ip]);
      for (const o of proxy) expect(o.output).toMatch(/registry:5000\/lab\/kamal-proxy:v0\.9\.2 .* kamal-proxy$/m);
      const app = outputs(r).filter((o) => o.type === 'App');
      expect(
        app.map((o) => [
          o.host,
          o.output
            .split('\n')
            .slice(1)
            .map((l) => l.split(/\s+/).pop()),
        ]),
      ).toEqual([
        [h1.ip, ['app-web-v2']],
        [h2.ip, ['app-web-v2']],
        [h3.ip, ['app-job-v2']],
      ]);
    });

    it('audit shows the audit log of each host', async () => {
      const r = ok(await kamal(dir, ['audit', '-h', h3.ip]));
      expect(outputs(r).map((o) => o.host)).toEqual([h3.ip]);
      const log = outputs(r)[0]!.output;
      expect(log).toBe(onHost(h3, 'cat .kamal/app-audit.log'));
      expect(log).toMatch(/^\[\d{4}-\d\d-\d\dT[^\]]+\] \[[^\]]+\] Pruned containers$/m);
      expect(log).toMatch(/\[job\] Booted app version v2$/m);
    });

    it('server exec runs a command on the hosts, filtered by -H', async () => {
      const r = ok(await kamal(dir, ['server', 'exec', 'cat /etc/hostname']));
      expect(byHost(r)).toEqual([
        [h1.ip, 'vm1'],
        [h2.ip, 'vm2'],
        [h3.ip, 'vm3'],
      ]);
      const one = ok(await kamal(dir, ['server', 'exec', '-h', h2.ip, 'id -un']));
      expect(byHost(one)).toEqual([[h2.ip, 'root']]);
      expect(onHost(h2, 'tail -n 1 .kamal/app-audit.log')).toMatch(new RegExp(`Executed cmd 'id -un' on ${h2.ip.replace(/\./g, '\\.')}$`));
    });

    it('registry logout then login on the hosts', async () => {
      const auths = (h: LabHost) => onHost(h, 'cat /root/.docker/config.json 2>/dev/null || echo "{}"');
      ok(await kamal(dir, ['registry', 'logout', '--skip-local']));
      for (const h of [h1, h2, h3]) expect(JSON.parse(auths(h)).auths?.['registry:5000'], h.ip).toBeUndefined();
      const login = ok(await kamal(dir, ['registry', 'login', '-h', h1.ip]));
      // Kamal checks for a local docker first (verify_local_dependencies), then logs in locally and on the host
      expect(login.reporter.commands.map((c) => c.host).sort()).toEqual(['127.0.0.2', 'local', 'local']);
      expect(JSON.parse(auths(h1)).auths['registry:5000'].auth).toBe(Buffer.from(`lab:${lab().registry.password}`).toString('base64'));
      expect(JSON.parse(auths(h2)).auths?.['registry:5000']).toBeUndefined();
      ok(await kamal(dir, ['registry', 'login', '--skip-local']));
      for (const h of [h1, h2, h3]) expect(JSON.parse(auths(h)).auths['registry:5000'], h.ip).toBeDefined();
      // the password is never shown in what was run
      expect(login.reporter.commands.map((c) => c.command).join('\n')).not.toContain(lab().registry.password);
    });

    it('secrets print redacts unless --reveal', async () => {
      const r = ok(await kamal(dir, ['secrets', 'print']));
      expect(r.reporter.text).toBe('KAMAL_REGISTRY_PASSWORD=[REDACTED]\nAPP_TOKEN=[REDACTED]\n');
      const revealed = ok(await kamal(dir, ['secrets', 'print', '--reveal']));
      expect(revealed.reporter.text).toBe(`KAMAL_REGISTRY_PASSWORD=${lab().registry.password}\nAPP_TOKEN=tok-e2e-1234\n`);
      expect(remote(revealed)).toEqual([]);
    });

    it("config prints the resolved configuration, as Kamal's Configuration#to_h", async () => {
      const r = ok(await kamal(dir, ['config', '--version', 'v9']));
      expect(remote(r)).toEqual([]);
      expect(r.reporter.text).not.toContain(lab().registry.password);
      expect(r.reporter.text).not.toContain('tok-e2e-1234');
      const c = parse(r.reporter.text) as Record<string, unknown>;
      // Kamal's to_yaml: symbol keys; roles sorted by name, hosts in role order, the primary host from the primary (web) role
      expect(c).toMatchObject({
        ':roles': ['job', 'web'],
        ':hosts': [h3.ip, h1.ip, h2.ip],
        ':primary_host': h1.ip,
        ':version': 'v9',
        ':repository': 'registry:5000/lab/app',
        ':absolute_image': 'registry:5000/lab/app:v9',
        ':service_with_version': 'app-v9',
      });
    });

    it('an alias from the config runs as a command, with extra arguments appended', async () => {
      const r = ok(await kamal(dir, ['web-version']));
      expect(byHost(r)).toEqual([
        [h1.ip, 'v2'],
        [h2.ip, 'v2'],
      ]);
      const one = ok(await kamal(dir, ['web-version', '-h', h2.ip]));
      expect(byHost(one)).toEqual([[h2.ip, 'v2']]);
    });
  });

  describe('bad arguments', () => {
    const cases: [string[], RegExp][] = [
      [['app', 'version', '-r', 'nope'], /No --roles match for nope/],
      [['app', 'boot', '-r', 'nope'], /No --roles match for nope/],
      [['app', 'exec', '--reuse', '-r', 'nope', 'true'], /No --roles match for nope/],
      [['deploy', '-P', '-r', 'nope'], /No --roles match for nope/],
      [['proxy', 'reboot', '-y', '-h', '10.9.9.9'], /No --hosts match for 10\.9\.9\.9/],
      [['app', 'stop', '-h', '10.9.9.*'], /No --hosts match for 10\.9\.9\.\*/],
      [['accessory', 'boot', 'nope'], /No accessory by the name of 'nope'/],
      [['accessory', 'logs', 'nope'], /No accessory by the name of 'nope'/],
      [['accessory', 'boot'], /missing required argument 'name'/],
      [['rollback'], /missing required argument 'version'/],
      [['app', 'exec'], /No command provided\. You must specify a command to execute\./],
      [['server', 'exec'], /missing required argument 'cmd'/],
      [['lock', 'acquire'], /required option '-m, --message <message>' not specified/],
      [['proxy', 'boot_config'], /missing required argument 'subcommand'/],
      [['proxy', 'boot_config', 'bogus'], /Unknown boot_config subcommand bogus/],
      [['proxy', 'boot_config', 'set', '--publish-host-ip', '300.1.1.1'], /Invalid publish IP address: 300\.1\.1\.1/],
      [['app', 'logs', '--lines', 'ten'], /--lines expects a whole number, got 'ten'/],
      [['app', 'exec', '--detach', '--reuse', 'true'], /Detach is not compatible with reuse/],
      [['prune', 'containers', '--retain', '0'], /retain must be at least 1/],
      [['app', 'remove', '-y'], /unknown option '-y'/],
      [['app', 'bogus'], /unknown command 'bogus'/],
      [['bogus'], /unknown command 'bogus'/],
      [['app', 'version', 'extra'], /too many arguments for 'version'/],
      [['deploy', '-d', 'nosuch'], /deploy\.nosuch\.yml/],
    ];

    it('every command refuses bad arguments with a clear message and a non-zero exit, before touching a host', async () => {
      const auditBefore = [h1, h2, h3].map((h) => onHost(h, 'cat .kamal/app-audit.log | wc -l'));
      for (const [args, message] of cases) {
        const r = await kamal(dir, args);
        expect(r.exitCode, args.join(' ')).toBe(1);
        expect(r.err, args.join(' ')).toMatch(message);
        expect(r.reporter.commands, args.join(' ')).toEqual([]);
      }
      expect([h1, h2, h3].map((h) => onHost(h, 'cat .kamal/app-audit.log | wc -l'))).toEqual(auditBefore);
      expect(onHost(h1, 'ls .kamal')).not.toMatch(/lock-/);
    });
  });

  describe('proxy', () => {
    let boot: string;

    beforeAll(() => {
      // the same app on h1, with no proxy/run: kamal-proxy is booted from the boot_config files
      boot = makeProject({
        yaml: `servers:
  web:
    hosts:
      - ${h1.ip}
proxy:
  host: ${HOST}
  app_port: 80
`,
        secrets: SECRETS,
      });
    });

    it('proxy boot_config set, get, reboot onto port 8080, reset', async () => {
      const get0 = ok(await kamal(boot, ['proxy', 'boot_config', 'get']));
      expect(get0.reporter.text).toBe(`Host ${h1.ip}: --publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2\n`);
      expect(get0.reporter.messages).toContainEqual({
        level: 'warn',
        message: 'The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead',
      });

      const p = lab().proxyImage;
      ok(
        await kamal(boot, [
          'proxy',
          'boot_config',
          'set',
          '--http-port',
          '8080',
          '--https-port',
          '8443',
          '--log-max-size',
          '5m',
          '--registry',
          p.registry,
          '--repository',
          'lab',
          '--image-version',
          p.version,
        ]),
      );
      expect(onHost(h1, 'cat .kamal/proxy/options; echo; cat .kamal/proxy/image; echo; cat .kamal/proxy/image_version')).toBe(
        `--publish 8080:80 --publish 8443:443 --log-opt max-size=5m\n${p.registry}/lab/kamal-proxy\n${p.version}`,
      );
      const get1 = ok(await kamal(boot, ['proxy', 'boot_config', 'get']));
      expect(get1.reporter.text).toBe(`Host ${h1.ip}: --publish 8080:80 --publish 8443:443 --log-opt max-size=5m ${p.image}\n`);

      ok(await kamal(boot, ['proxy', 'reboot', '-y']));
      expect(onHost(h1, 'docker port kamal-proxy 80/tcp | head -n 1')).toBe('0.0.0.0:8080');
      expect(onHost(h1, "docker inspect kamal-proxy --format '{{.HostConfig.LogConfig.Config}}'")).toBe('map[max-size:5m]');
      // kamal-proxy kept its routes: the app answers on the new port inside the host, and no longer on 80
      expect(onHost(h1, `curl -sS -H 'Host: ${HOST}' http://127.0.0.1:8080/`)).toBe('v2');
      await expect(httpGet(h1.ip, '/', HOST, 2000)).rejects.toThrow();
      // the other host's proxy is untouched
      expect(await httpGet(h2.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });

      ok(await kamal(boot, ['proxy', 'boot_config', 'reset']));
      expect(onHost(h1, 'ls .kamal/proxy')).toBe('apps-config');
      const get2 = ok(await kamal(boot, ['proxy', 'boot_config', 'get']));
      expect(get2.reporter.text).toBe(get0.reporter.text);

      // back on port 80 with the config's proxy/run
      ok(await kamal(dir, ['proxy', 'reboot', '-y', '-h', h1.ip]));
      expect(onHost(h1, 'docker port kamal-proxy 80/tcp | head -n 1')).toBe('0.0.0.0:80');
      expect(await httpGet(h1.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
    });

    it('two apps share a host and its proxy; app remove of one leaves the other routed', async () => {
      const other = makeProject({
        service: 'other',
        yaml: `servers:
  web:
    hosts:
      - ${h2.ip}
proxy:
  host: ${OTHER}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
deploy_timeout: 10
drain_timeout: 1
readiness_delay: 0
`,
      });
      // built here and pushed (the image carries the service label Kamal checks)
      ok(await kamal(other, ['deploy', '--version', 'o1'], { VERSION: 'o1' }));
      expect(await httpGet(h2.ip, '/', OTHER)).toEqual({ status: 200, body: 'o1\n' });
      expect(await httpGet(h2.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      expect(names(h2, 'name=kamal-proxy')).toBe('kamal-proxy');
      expect(onHost(h2, 'ls .kamal/apps | sort')).toBe('app\nother');

      // proxy remove refuses while another app is installed
      const keep = ok(await kamal(other, ['proxy', 'remove']));
      expect(keep.reporter.messages.map((m) => m.message)).toContain(
        'Not removing the proxy, as other apps are installed, ignore this check with kamal-action proxy remove --force',
      );
      expect(names(h2, 'name=kamal-proxy', false)).toBe('kamal-proxy');

      ok(await kamal(other, ['app', 'remove']));
      expect(names(h2, 'label=service=other')).toBe('');
      expect(onHost(h2, 'docker image ls -q registry:5000/lab/other')).toBe('');
      expect((await httpGet(h2.ip, '/', OTHER)).status).toBe(404);
      expect(await httpGet(h2.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      expect(names(h2, 'label=service=app', false)).toBe('app-web-v2');
      expect(onHost(h2, 'ls .kamal/apps')).toBe('app');
    });
  });

  it("app remove -r job removes that role's containers, images and the app directory of its only host", async () => {
    ok(await kamal(dir, ['app', 'remove', '-r', 'job']));
    expect(names(h3)).toBe('');
    expect(onHost(h3, 'docker image ls -q registry:5000/lab/app')).toBe('');
    expect(onHost(h3, 'ls .kamal/apps')).toBe('');
    for (const h of [h1, h2]) {
      expect(await httpGet(h.ip, '/', HOST)).toEqual({ status: 200, body: 'v2\n' });
      expect(names(h, 'label=service=app', false)).toBe('app-web-v2');
    }
  });
});
