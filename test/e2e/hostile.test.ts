/**
 * Hostile values and secrets against real hosts: quotes, `$()`, backticks, `;`, newlines and
 * unicode in env, labels, options, cmd, volumes, accessory files and host names reach docker
 * byte-exact and run nothing on the host or here; distinctive secret values never appear in
 * anything we print or leave on a host, for a deploy that works and one that fails.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpGet, kamal, lab, makeProject, onHost, proxyRunYaml, resetHosts, type KamalRun } from './helpers.js';

const HOST = 'hostile.lab.test';
const tag = randomBytes(4).toString('hex');
// Every payload would leave a /tmp/pwned-<tag>-* file behind if a shell ran it.
const pwn = (what: string) => `/tmp/pwned-${tag}-${what}`;
const PAYLOADS = {
  quotes: `it's "double" and 'single' \\ back\\slash`,
  subst: `$(touch ${pwn('subst')}) \${HOME} $HOME`,
  backticks: `\`touch ${pwn('bt')}\``,
  semicolon: `a; touch ${pwn('semi')} && echo x | cat > ${pwn('pipe')}`,
  newline: `line1\nline2; touch ${pwn('nl')}\n`,
  unicode: 'héllo ✓ 中文 \u00a0 emoji 🚀',
  glob: `* ? [a-z] ~ {a,b} ${pwn('glob')}*`,
};
const SECRET = `sec-${randomBytes(10).toString('hex')}-'"$(touch ${pwn('secret')})`;
const REGISTRY_USER_SECRET_LINE = `line-${randomBytes(8).toString('hex')}`;

function leaks(text: string): string[] {
  return [SECRET, REGISTRY_USER_SECRET_LINE, lab().registry.password].filter((s) => text.includes(s));
}

function printed(r: KamalRun): string {
  const m = r.reporter;
  return [r.out, r.err, m.text, JSON.stringify(m.messages), JSON.stringify(m.outputs), JSON.stringify(m.commands)].join('\n');
}

function environOf(host: ReturnType<typeof lab>['hosts'][number], container: string): Record<string, string> {
  const raw = onHost(host, `docker exec ${container} cat /proc/1/environ | base64 -w0`);
  const out: Record<string, string> = {};
  for (const kv of Buffer.from(raw, 'base64').toString('utf8').split('\0').filter(Boolean)) {
    const i = kv.indexOf('=');
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function inspect(host: ReturnType<typeof lab>['hosts'][number], container: string, format: string): unknown {
  return JSON.parse(onHost(host, `docker inspect -f '{{json ${format}}}' ${container}`));
}

describe('hostile values and secrets on real hosts', () => {
  let dir: string;
  const runs: KamalRun[] = [];
  const [web, job] = [() => lab().hosts[0]!, () => lab().hosts[1]!];
  const volumeDir = `/tmp/vol ${PAYLOADS.subst.replace(/\$\{HOME\}|\$HOME/g, '')} ; x`;

  beforeAll(() => {
    resetHosts(lab().hosts.slice(0, 2));
    const l = lab();
    const body = {
      servers: {
        web: {
          hosts: [web().ip],
          labels: Object.fromEntries(Object.entries(PAYLOADS).map(([k, v]) => [`evil.${k}`, v])),
          options: { env: `OPT_EVIL=${PAYLOADS.subst}` },
        },
        job: {
          hosts: [job().ip],
          cmd: `/usr/local/bin/app-start "${PAYLOADS.quotes.replace(/[\\"]/g, '\\$&')}" '${PAYLOADS.subst}' '${PAYLOADS.backticks}' "${PAYLOADS.semicolon}"`,
        },
      },
      volumes: [`${volumeDir}:/data`],
      env: { clear: Object.fromEntries(Object.entries(PAYLOADS).map(([k, v]) => [`EVIL_${k.toUpperCase()}`, v])), secret: ['APP_SECRET'] },
      accessories: {
        db: {
          image: l.dbImage,
          host: web().ip,
          files: ['config/evil.conf:/etc/db/conf.d/evil.conf'],
          env: { secret: ['APP_SECRET'] },
        },
      },
      deploy_timeout: 8,
      drain_timeout: 2,
      readiness_delay: 0,
    };
    const yaml = `${stringify(body)}proxy:\n  host: ${HOST}\n  app_port: 80\n  healthcheck:\n    interval: 1\n${proxyRunYaml()}`;
    dir = makeProject({
      service: 'hostile',
      yaml,
      // a value with both quotes and `$(` can only come in through the environment
      secrets: 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nAPP_SECRET=$HOSTILE_SECRET\n',
      files: { 'config/evil.conf': `${Object.values(PAYLOADS).join('\n')}\n` },
    });
  });

  it('deploys with every payload passed to docker byte-exact', async () => {
    const r = await kamal(dir, ['setup', '--version', 'h1'], { VERSION: 'h1', HOSTILE_SECRET: SECRET });
    runs.push(r);
    expect(r.exitCode, r.err).toBe(0);
    expect((await httpGet(web().ip, '/', HOST)).body).toBe('h1\n');

    const env = environOf(web(), 'hostile-web-h1');
    for (const [k, v] of Object.entries(PAYLOADS)) expect(env[`EVIL_${k.toUpperCase()}`], k).toBe(v);
    expect(env.OPT_EVIL).toBe(PAYLOADS.subst);
    expect(env.APP_SECRET).toBe(SECRET);

    const labels = inspect(web(), 'hostile-web-h1', '.Config.Labels') as Record<string, string>;
    for (const [k, v] of Object.entries(PAYLOADS)) expect(labels[`evil.${k}`], k).toBe(v);

    const mounts = inspect(web(), 'hostile-web-h1', '.Mounts') as { Source: string; Destination: string }[];
    expect(mounts.find((m) => m.Destination === '/data')?.Source).toBe(volumeDir);

    const cmd = inspect(job(), 'hostile-job-h1', '.Config.Cmd') as string[];
    expect(cmd).toEqual(['/usr/local/bin/app-start', PAYLOADS.quotes, PAYLOADS.subst, PAYLOADS.backticks, PAYLOADS.semicolon]);

    const conf = onHost(web(), 'docker exec hostile-db cat /etc/db/conf.d/evil.conf | base64 -w0');
    expect(Buffer.from(conf, 'base64').toString('utf8')).toBe(`${Object.values(PAYLOADS).join('\n')}\n`);
    expect(environOf(web(), 'hostile-db').APP_SECRET).toBe(SECRET);
  });

  it('a host name carrying a command runs nothing and fails with a clean message', async () => {
    const bad = makeProject({ service: 'hostname', yaml: `servers:\n  - "127.0.0.250; touch ${pwn('host')}"\n` });
    const r = await kamal(bad, ['app', 'version', '--version', 'x']);
    runs.push(r);
    expect(r.exitCode).toBe(1);
    expect(r.err).toContain(`127.0.0.250; touch ${pwn('host')}`);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a failing deploy whose container prints the secret keeps it out of the error', async () => {
    const failing = makeProject({
      service: 'hostile',
      yaml: `servers:\n  web:\n    hosts: [${web().ip}]\n    cmd: sh -c 'echo "token=$APP_SECRET"; exec /usr/local/bin/app-start'\nenv:\n  clear:\n    FAIL_HEALTH: "1"\n  secret: [APP_SECRET]\nproxy:\n  host: ${HOST}\n  app_port: 80\n  healthcheck:\n    interval: 1\n${proxyRunYaml()}deploy_timeout: 4\nreadiness_delay: 0\n`,
      secrets: `KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\nAPP_SECRET=$HOSTILE_SECRET\nLOG_LINE=${REGISTRY_USER_SECRET_LINE}\n`,
    });
    const r = await kamal(failing, ['deploy', '--version', 'h2-bad'], { VERSION: 'h2-bad', HOSTILE_SECRET: SECRET });
    runs.push(r);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/token=\[REDACTED\]/);
    expect((await httpGet(web().ip, '/', HOST)).body).toBe('h1\n');
  });

  it('ran no payload on the hosts or on this machine', () => {
    for (const h of lab().hosts.slice(0, 2)) expect(onHost(h, `ls /tmp | grep -c '^pwned-${tag}' || true`)).toBe('0');
    expect(readdirSync('/tmp').filter((f) => f.startsWith(`pwned-${tag}`))).toEqual([]);
  });

  it('printed no secret value, and left none on the hosts but in the 600 env files', () => {
    for (const r of runs) expect(leaks(printed(r))).toEqual([]);
    for (const h of lab().hosts.slice(0, 2)) {
      // every file under the deploy user's home and /tmp holding the secret
      const hits = onHost(h, `grep -rlF -e ${quote(SECRET)} /root /home /tmp /etc 2>/dev/null || true`)
        .split('\n')
        .filter(Boolean);
      for (const f of hits) {
        expect(f).toMatch(/^\/root\/\.kamal\/apps\/hostile\/env\/(roles|accessories)\/[\w.-]+\.env$/);
        expect(onHost(h, `stat -c %a ${quote(f)}`)).toBe('600');
      }
      const audit = onHost(h, 'cat /root/.kamal/app-audit.log 2>/dev/null || true');
      expect(leaks(audit)).toEqual([]);
    }
  });
});

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
