/**
 * Accessories on the lab over real SSH: a mysql-like `db` accessory (the lab
 * db image) with a published port, clear and secret env, an uploaded file, an
 * ERB file, a relative and an absolute directory and docker options; boot,
 * reboot (data kept), reachability from the app by name on the kamal network,
 * details/logs/exec, and remove (its data directory only).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts, type KamalRun, type LabHost } from './helpers.js';

const HOST = 'acc.lab.test';
const DB_CONF = '[mysqld]\nmax_connections = 42\ncharacter-set-server = utf8mb4\n';

function config(h: LabHost, l = lab()): string {
  return `servers:
  web:
    hosts:
      - ${h.ip}
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
deploy_timeout: 10
drain_timeout: 1
readiness_delay: 0
accessories:
  db:
    image: ${l.dbImage}
    host: ${h.ip}
    port: "127.0.0.1:5432:5432"
    env:
      clear:
        DB_NAME: labdb
        DB_USER: app
      secret:
        - DB_PASSWORD
    files:
      - config/db/db.conf:/etc/db/db.conf
      - config/db/extra.cnf.erb:/etc/db/conf.d/extra.cnf
    directories:
      - data:/var/lib/db
      - /root/db/shared:/srv/shared
    options:
      hostname: db-box
      restart: always
    labels:
      tier: data
`;
}

/** Remote commands a run sent (uploads count too); local ones (hooks, docker login on this machine) are left out. */
const remote = (r: KamalRun) => r.reporter.commands.filter((c) => c.host !== 'local');

describe('accessories on the lab', () => {
  let dir: string;
  let h: LabHost;
  const db = (path: string) => onHost(h, `curl -fsS http://127.0.0.1:5432${path}`);

  beforeAll(async () => {
    resetHosts();
    h = lab().hosts[0]!;
    onHost(h, 'rm -rf /root/app-db');
    dir = makeProject({
      yaml: config(h),
      secrets: 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nDB_PASSWORD=s3cret-pw\n',
      files: {
        'config/db/db.conf': DB_CONF,
        'config/db/extra.cnf.erb': 'extra = <%= ENV.fetch("DB_EXTRA", "none") %>\n',
      },
    });
    const r = await kamal(dir, ['deploy', '-P', '--version', 'v1']);
    expect(r.exitCode, r.err).toBe(0);
  });

  it('accessory boot db: its files uploaded and mounted, its directories created, env, port and options applied', async () => {
    const r = await kamal(dir, ['accessory', 'boot', 'db'], { DB_EXTRA: 'from-erb' });
    expect(r.exitCode, r.err).toBe(0);
    expect(onHost(h, 'docker ps --filter label=service=app-db --format \'{{.Names}} {{.Image}} {{.Label "tier"}}\'')).toBe(`app-db ${lab().dbImage} data`);
    // the file, uploaded under ~/app-db and mounted where the config says, plus the rendered ERB file
    expect(db('/config')).toBe(`${DB_CONF}extra = from-erb`);
    expect(onHost(h, 'cat /root/app-db/etc/db/db.conf')).toBe(DB_CONF.trim());
    expect(onHost(h, 'stat -c %a /root/app-db/etc/db/db.conf')).toBe('755');
    // relative directory under ~/app-db, absolute one where it is written
    expect(onHost(h, 'test -d /root/app-db/data && test -d /root/db/shared && echo ok')).toBe('ok');
    expect(onHost(h, 'cat /root/app-db/data/boots | wc -l')).toBe('1');
    // env: clear, secret (through the env file) and KAMAL_HOST
    const env = db('/env').split('\n');
    expect(env).toEqual(expect.arrayContaining(['DB_NAME=labdb', 'DB_USER=app', 'DB_PASSWORD=s3cret-pw', `KAMAL_HOST=${h.ip}`]));
    expect(onHost(h, 'stat -c %a .kamal/apps/app/env/accessories/db.env')).toBe('600');
    // options: hostname and restart policy, on the kamal network, published on 127.0.0.1 only
    expect(db('/boots')).toMatch(/^boot \S+ host=db-box$/);
    expect(onHost(h, "docker inspect app-db --format '{{.HostConfig.RestartPolicy.Name}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}'")).toBe(
      'always kamal',
    );
    expect(onHost(h, 'docker port app-db 5432')).toBe('127.0.0.1:5432');
  });

  it('accessory boot db again skips the host where the container exists', async () => {
    const r = await kamal(dir, ['accessory', 'boot', 'db']);
    expect(r.exitCode, r.err).toBe(0);
    expect(r.reporter.messages).toContainEqual({ level: 'warn', message: `Skipping booting \`db\` on ${h.ip}, a container already exists` });
    expect(onHost(h, 'cat /root/app-db/data/boots | wc -l')).toBe('1');
  });

  it('accessory reboot db replaces the container and keeps the data', async () => {
    const before = onHost(h, 'docker inspect app-db --format {{.Id}}');
    const r = await kamal(dir, ['accessory', 'reboot', 'db']);
    expect(r.exitCode, r.err).toBe(0);
    expect(onHost(h, 'docker inspect app-db --format {{.Id}}')).not.toBe(before);
    const boots = db('/boots').split('\n');
    expect(boots).toHaveLength(2);
    for (const b of boots) expect(b).toMatch(/^boot \S+ host=db-box$/);
  });

  it('the app reaches the accessory by its service name on the kamal network', async () => {
    const r = await kamal(dir, ['app', 'exec', '--reuse', 'wget -qO- http://app-db:5432/up']);
    expect(r.exitCode, r.err).toBe(0);
    expect(r.reporter.outputs).toEqual([{ host: h.ip, output: 'OK', type: 'App' }]);
  });

  it('accessory details, logs and exec return what the container has', async () => {
    const details = await kamal(dir, ['accessory', 'details', 'db']);
    expect(details.exitCode, details.err).toBe(0);
    expect(details.reporter.outputs).toHaveLength(1);
    expect(details.reporter.outputs[0]!.type).toBe('Accessory db');
    expect(details.reporter.outputs[0]!.output).toMatch(
      new RegExp(`${lab().dbImage.replace(/[.]/g, '\\.')}\\s.*127\\.0\\.0\\.1:5432->5432/tcp\\s+app-db$`, 'm'),
    );

    const logs = await kamal(dir, ['accessory', 'logs', 'db', '--grep', 'db starting', '-T']);
    expect(logs.exitCode, logs.err).toBe(0);
    // the logs of the current container: its one start, with two boots recorded
    expect(logs.reporter.outputs.map((o) => o.output)).toEqual(['db starting port=5432 config=/etc/db/db.conf data=/var/lib/db boots=2']);
    const tail = await kamal(dir, ['accessory', 'logs', 'db', '-n', '1']);
    expect(tail.reporter.outputs[0]!.output).toMatch(/^\d{4}-\d\d-\d\dT\S+ /);

    const reuse = await kamal(dir, ['accessory', 'exec', 'db', '--reuse', "sh -c 'hostname; cat /run/db-www/up; wc -l < /var/lib/db/boots'"]);
    expect(reuse.exitCode, reuse.err).toBe(0);
    // headed like Kamal's puts_by_host, whose default type is App
    expect(reuse.reporter.outputs).toEqual([{ host: h.ip, output: 'db-box\nOK\n2', type: 'App' }]);

    // a new container: same mounts and env, but not the running one (no /run/db-www)
    const fresh = await kamal(dir, [
      'accessory',
      'exec',
      'db',
      "sh -c 'cat /etc/db/db.conf; echo $DB_PASSWORD; test -d /run/db-www && echo live || echo fresh'",
    ]);
    expect(fresh.exitCode, fresh.err).toBe(0);
    expect(fresh.reporter.outputs).toEqual([{ host: h.ip, output: `${DB_CONF}s3cret-pw\nfresh`, type: 'App' }]);
    expect(onHost(h, "docker ps -a --format '{{.Names}}' | sort")).toBe(['app-db', 'app-web-v1', 'kamal-proxy'].join('\n'));
  });

  it('accessory stop, start and restart', async () => {
    expect((await kamal(dir, ['accessory', 'stop', 'db'])).exitCode).toBe(0);
    expect(onHost(h, "docker inspect app-db --format '{{.State.Status}}'")).toBe('exited');
    expect((await kamal(dir, ['accessory', 'start', 'db'])).exitCode).toBe(0);
    expect(onHost(h, "docker inspect app-db --format '{{.State.Status}}'")).toBe('running');
    expect((await kamal(dir, ['accessory', 'restart', 'db'])).exitCode).toBe(0);
    expect(db('/boots').split('\n')).toHaveLength(4);
  });

  it('an unknown accessory is refused before touching a host', async () => {
    for (const sub of ['boot', 'reboot', 'details', 'logs', 'remove']) {
      const r = await kamal(dir, ['accessory', sub, 'nope', ...(sub === 'remove' ? ['-y'] : [])]);
      expect(r.exitCode, sub).toBe(1);
      expect(r.err, sub).toMatch(/No accessory by the name of 'nope' \(options: db\)/);
      expect(remote(r), sub).toEqual([]);
    }
    const exec = await kamal(dir, ['accessory', 'exec', 'nope', 'true']);
    expect(exec.exitCode).toBe(1);
    expect(exec.err).toMatch(/No accessory by the name of 'nope'/);
    expect(remote(exec)).toEqual([]);
    const missing = await kamal(dir, ['accessory', 'boot']);
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toMatch(/missing required argument 'name'/);
    expect(remote(missing)).toEqual([]);
  });

  it('accessory remove db -y removes its container, image and data directory and nothing else', async () => {
    onHost(h, 'echo keep > /root/db/shared/marker');
    const r = await kamal(dir, ['accessory', 'remove', 'db', '-y']);
    expect(r.exitCode, r.err).toBe(0);
    expect(onHost(h, "docker ps -a --filter label=service=app-db --format '{{.Names}}'")).toBe('');
    expect(onHost(h, `docker image ls -q ${lab().dbImage}`)).toBe('');
    expect(onHost(h, 'test -e /root/app-db && echo present || echo gone')).toBe('gone');
    // the absolute mapping, the app and its files stay
    expect(onHost(h, 'cat /root/db/shared/marker')).toBe('keep');
    expect(onHost(h, "docker ps --format '{{.Names}}' | sort")).toBe('app-web-v1\nkamal-proxy');
    expect(onHost(h, 'test -f .kamal/apps/app/env/roles/web.env && echo ok')).toBe('ok');
  });
});
