// Helpers for end-to-end tests against the lab brought up by test/lab/up.sh.
// Uses node:child_process and node:http only.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LabHost {
  /** vm1, vm2, ... (also the host's hostname) */
  name: string;
  /** docker container on the outer engine: lab-host-1, ... */
  container: string;
  /** loopback address with ports 22, 80 and 443 published: 127.0.0.2, ... */
  ip: string;
  port: number;
  /** name other hosts (and jump hosts) reach it by on the lab network */
  internalName: string;
}

export interface LabInfo {
  version: number;
  sourceHash: string;
  labDir: string;
  hosts: LabHost[];
  network: string;
  registry: { server: string; username: string; password: string; container: string; url: string };
  ssh: { key: string; publicKey: string; knownHosts: string; knownHostsHashed: string; users: string[] };
  proxyImage: { registry: string; repository: string; version: string; image: string };
  appRepo: string;
  appContext: string;
  appVersions: { healthy: string[]; failing: string };
  dbImage: string;
  baseImage: string;
  hostImage: string;
  startedDockerd: boolean;
  updatedAt: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** do not throw on a non-zero exit code */
  allowFailure?: boolean;
  /** written to the command's stdin */
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export class LabCommandError extends Error {
  constructor(
    message: string,
    readonly result: ExecResult,
  ) {
    super(message);
    this.name = 'LabCommandError';
  }
}

/** A host given as its record, index (1-based), name (vm1), ip (127.0.0.2) or container name. */
export type HostRef = LabHost | number | string;

export const LAB_SRC = path.dirname(fileURLToPath(import.meta.url));
export const LAB_ROOT = path.resolve(LAB_SRC, '../..');
export const LAB_DIR = process.env.LAB_DIR || path.join(LAB_ROOT, '.lab');
export const LAB_JSON = path.join(LAB_DIR, 'lab.json');

const SHELL_TIMEOUT_MS = 120_000;

// ------------------------------------------------------------------ processes

/** Runs a program (no shell) and collects its output. */
export function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? SHELL_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (timedOut) result.stderr += `\n[lab] timed out after ${opts.timeoutMs ?? SHELL_TIMEOUT_MS} ms`;
      if (result.code !== 0 && !opts.allowFailure) {
        const shown = [cmd, ...args].join(' ').slice(0, 300);
        reject(new LabCommandError(`command failed (exit ${result.code}): ${shown}\n${stderr.trim() || stdout.trim()}`, result));
      } else {
        resolve(result);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export function docker(args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return run('docker', args, opts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value; throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

// ------------------------------------------------------------------ lab info

export function readLab(): LabInfo | null {
  try {
    return JSON.parse(fs.readFileSync(LAB_JSON, 'utf8')) as LabInfo;
  } catch {
    return null;
  }
}

let cached: LabInfo | null = null;

/** The lab described by lab.json (throws when the lab was never brought up). */
export function lab(): LabInfo {
  if (cached) return cached;
  const info = readLab();
  if (!info) throw new Error(`no lab: ${LAB_JSON} is missing (run test/lab/up.sh)`);
  cached = info;
  return info;
}

/** Same algorithm as the lab.json writer in up.sh: every non-.ts file under test/lab. */
export function labSourceHash(): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.isFile() && !f.name.endsWith('.ts')) files.push(path.relative(LAB_SRC, p));
    }
  };
  walk(LAB_SRC);
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f + '\0');
    h.update(fs.readFileSync(path.join(LAB_SRC, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

export function host(ref: HostRef, info: LabInfo = lab()): LabHost {
  if (typeof ref === 'object') return ref;
  const found =
    typeof ref === 'number' ? info.hosts[ref - 1] : info.hosts.find((h) => h.name === ref || h.ip === ref || h.container === ref || h.internalName === ref);
  if (!found) throw new Error(`no lab host ${String(ref)} (lab has ${info.hosts.length})`);
  return found;
}

// ------------------------------------------------------------------ ssh

export function sshArgs(ref: HostRef, user = 'root', info: LabInfo = lab()): string[] {
  const h = host(ref, info);
  return [
    '-F',
    '/dev/null',
    '-i',
    info.ssh.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${info.ssh.knownHosts}`,
    '-o',
    'ConnectTimeout=5',
    '-o',
    'LogLevel=ERROR',
    '-p',
    String(h.port),
    `${user}@${h.ip}`,
  ];
}

/** Runs a command on a host through the real ssh client (as a deploy tool would). */
export function sshExec(ref: HostRef, cmd: string, opts: ExecOptions & { user?: string } = {}): Promise<ExecResult> {
  return run('ssh', [...sshArgs(ref, opts.user ?? 'root'), cmd], opts);
}

// ------------------------------------------------------------------ readiness

async function hostAnswers(h: LabHost, info: LabInfo, users: string[] = ['root']): Promise<boolean> {
  for (const user of users) {
    const r = await sshExec(h, "docker info --format '{{.ServerVersion}}'", {
      user,
      allowFailure: true,
      timeoutMs: 15_000,
    }).catch(() => null);
    if (!r || r.code !== 0 || !r.stdout.trim()) return false;
    void info;
  }
  return true;
}

function registryStatus(info: LabInfo, auth: boolean): Promise<number> {
  const headers: Record<string, string> = {};
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${info.registry.username}:${info.registry.password}`).toString('base64')}`;
  return httpGet('127.0.0.1', '/v2/', { port: 5000, headers, timeoutMs: 3000 }).then(
    (r) => r.status,
    () => 0,
  );
}

export async function registryReady(info: LabInfo = lab()): Promise<boolean> {
  const [unauth, authed] = await Promise.all([registryStatus(info, false), registryStatus(info, true)]);
  return unauth === 401 && authed === 200;
}

/** True when lab.json is current and the registry and every host (ssh + docker) answer. */
export async function labReady(info: LabInfo, hosts: number): Promise<boolean> {
  if (info.hosts.length < hosts) return false;
  if (info.sourceHash !== labSourceHash()) return false;
  const names = [info.registry.container, ...info.hosts.map((h) => h.container)];
  const states = await docker(['inspect', '-f', '{{.State.Running}}', ...names], { allowFailure: true, timeoutMs: 10_000 }).catch(() => null);
  if (
    !states ||
    states.code !== 0 ||
    states.stdout
      .trim()
      .split('\n')
      .some((l) => l !== 'true')
  )
    return false;
  const checks = await Promise.all([registryReady(info), ...info.hosts.map((h) => hostAnswers(h, info))]);
  return checks.every(Boolean);
}

export async function waitHostReady(ref: HostRef, { timeoutMs = 90_000, users = ['root'] }: { timeoutMs?: number; users?: string[] } = {}): Promise<void> {
  const info = lab();
  const h = host(ref, info);
  await waitFor(`${h.name} (${h.ip}) ssh + docker`, () => hostAnswers(h, info, users), { timeoutMs, intervalMs: 200 });
}

/**
 * Makes sure the lab is up with at least `hosts` hosts (default: env LAB_HOSTS or 3).
 * Fast when everything already answers; otherwise runs test/lab/up.sh.
 */
export async function ensureLab(opts: { hosts?: number; quiet?: boolean } = {}): Promise<LabInfo> {
  const wanted = opts.hosts ?? (Number(process.env.LAB_HOSTS) || 3);
  const existing = readLab();
  if (existing && (await labReady(existing, wanted))) {
    cached = existing;
    return existing;
  }
  const hostsArg = String(Math.max(wanted, existing?.hosts.length ?? 0));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [path.join(LAB_SRC, 'up.sh')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LAB_HOSTS: hostsArg, LAB_DIR },
    });
    let tail = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      if (!opts.quiet) process.stderr.write(s);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`test/lab/up.sh failed (exit ${code}):\n${tail}`))));
  });
  cached = null;
  return lab();
}

// ------------------------------------------------------------------ inside hosts

/** Runs `sh -c cmd` inside a host container with docker exec. */
export function hostExec(ref: HostRef, cmd: string, opts: ExecOptions & { user?: string } = {}): Promise<ExecResult> {
  const h = host(ref);
  const args = ['exec', '-i'];
  if (opts.user) args.push('-u', opts.user);
  for (const [k, v] of Object.entries(opts.env ?? {})) args.push('-e', `${k}=${v}`);
  args.push(h.container, 'sh', '-c', cmd);
  return docker(args, { ...opts, env: undefined });
}

/** Restarts the host's dockerd (sshd stays up), like `systemctl restart docker`. */
export async function restartHostDockerd(ref: HostRef, { timeoutMs = 90_000 } = {}): Promise<void> {
  const h = host(ref);
  const before = (await hostExec(h, 'cat /run/lab/dockerd.pid 2>/dev/null', { allowFailure: true })).stdout.trim();
  await hostExec(h, 'p=$(cat /run/lab/dockerd.pid 2>/dev/null) && kill -TERM "$p"', { allowFailure: true });
  await waitFor(
    `${h.name} dockerd to restart`,
    async () => {
      const r = await hostExec(h, 'p=$(cat /run/lab/dockerd.pid 2>/dev/null) && echo "$p" && docker info >/dev/null 2>&1', {
        allowFailure: true,
      });
      return r.code === 0 && r.stdout.trim() !== before;
    },
    { timeoutMs },
  );
}

/** Stops dockerd on a host and keeps it down until startHostDockerd (sshd stays up). */
export async function stopHostDockerd(ref: HostRef, { timeoutMs = 60_000 } = {}): Promise<void> {
  const h = host(ref);
  await hostExec(h, 'touch /run/lab/dockerd.hold; p=$(cat /run/lab/dockerd.pid 2>/dev/null) && kill -TERM "$p"; true');
  await waitFor(`${h.name} dockerd to stop`, async () => (await hostExec(h, 'test ! -e /run/lab/dockerd.pid', { allowFailure: true })).code === 0, {
    timeoutMs,
  });
}

export async function startHostDockerd(ref: HostRef, { timeoutMs = 60_000 } = {}): Promise<void> {
  const h = host(ref);
  await hostExec(h, 'rm -f /run/lab/dockerd.hold');
  await waitFor(`${h.name} dockerd to start`, async () => (await hostExec(h, 'docker info >/dev/null 2>&1', { allowFailure: true })).code === 0, { timeoutMs });
}

/** Kills the sshd listener of a host (open sessions keep running, new connections are refused). */
export async function killSshd(ref: HostRef): Promise<void> {
  const h = host(ref);
  await hostExec(h, 'p=$(cat /run/sshd.pid 2>/dev/null) && kill -TERM "$p"; rm -f /run/sshd.pid; true');
  await waitFor(`${h.name} sshd to stop listening`, async () => !(await sshListening(h.ip, h.port)), { timeoutMs: 10_000 });
}

export async function startSshd(ref: HostRef, { timeoutMs = 30_000 } = {}): Promise<void> {
  const h = host(ref);
  await hostExec(
    h,
    'if ! { test -f /run/sshd.pid && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then mkdir -p /run/sshd; /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log; fi',
  );
  await waitHostReady(h, { timeoutMs });
}

/** Takes the host off the lab network: its published ports and the registry become unreachable. */
export async function disconnectHost(ref: HostRef): Promise<void> {
  const h = host(ref);
  await docker(['network', 'disconnect', lab().network, h.container]);
}

export async function reconnectHost(ref: HostRef, { wait = true, timeoutMs = 60_000 } = {}): Promise<void> {
  const h = host(ref);
  const r = await docker(['network', 'connect', '--alias', h.internalName, lab().network, h.container], { allowFailure: true });
  if (r.code !== 0 && !/already exists|already attached/i.test(r.stderr)) {
    throw new LabCommandError(`docker network connect failed: ${r.stderr.trim()}`, r);
  }
  if (wait) await waitHostReady(h, { timeoutMs });
}

export async function hostConnected(ref: HostRef): Promise<boolean> {
  const h = host(ref);
  const r = await docker(['inspect', '-f', '{{json .NetworkSettings.Networks}}', h.container], { allowFailure: true });
  return r.code === 0 && r.stdout.includes(`"${lab().network}"`);
}

/** Reboots a host (container restart: dockerd restarts its unless-stopped containers). */
export async function restartHost(ref: HostRef, { timeoutMs = 120_000 } = {}): Promise<void> {
  const h = host(ref);
  await docker(['restart', '-t', '30', h.container], { timeoutMs });
  await waitHostReady(h, { timeoutMs });
}

export async function stopHost(ref: HostRef): Promise<void> {
  await docker(['stop', '-t', '30', host(ref).container], { timeoutMs: 60_000 });
}

export async function startHost(ref: HostRef, { timeoutMs = 120_000 } = {}): Promise<void> {
  const h = host(ref);
  await docker(['start', h.container]);
  await waitHostReady(h, { timeoutMs });
}

export async function stopRegistry(): Promise<void> {
  await docker(['stop', '-t', '10', lab().registry.container], { timeoutMs: 30_000 });
}

export async function startRegistry({ timeoutMs = 60_000 } = {}): Promise<void> {
  const info = lab();
  await docker(['start', info.registry.container]);
  await waitFor('registry /v2/', () => registryReady(info), { timeoutMs });
}

const RESET_SCRIPT = `
set -u
rm -f /run/lab/dockerd.hold
if ! { test -f /run/sshd.pid && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then
  mkdir -p /run/sshd; /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log
fi
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -gt 300 ] && { echo "dockerd does not answer" >&2; exit 1; }
  sleep 0.2
done
ids=$(docker ps -aq)
[ -z "$ids" ] || docker rm -f $ids >/dev/null
nets=$(docker network ls -q --filter type=custom)
[ -z "$nets" ] || docker network rm $nets >/dev/null
vols=$(docker volume ls -q)
[ -z "$vols" ] || docker volume rm -f $vols >/dev/null
if [ "\${RESET_IMAGES:-0}" = 1 ]; then docker image prune -af >/dev/null; fi
for home in /root /home/deploy; do
  find "$home" -mindepth 1 -maxdepth 1 ! -name .ssh ! -name .bashrc ! -name .profile -exec rm -rf {} +
done
rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null
true
`;

/**
 * Gives a host a clean start: removes every container, custom network (kamal),
 * volume and every file a deploy leaves in root's and deploy's homes (.kamal,
 * .docker logins, accessory dirs). Images stay cached unless `images: true`.
 * Also undoes earlier faults: reconnects it, starts it, restarts sshd/dockerd.
 */
export async function resetHost(ref: HostRef, { images = false }: { images?: boolean } = {}): Promise<void> {
  const h = host(ref);
  const state = await docker(['inspect', '-f', '{{.State.Running}}', h.container]);
  if (state.stdout.trim() !== 'true') await docker(['start', h.container]);
  if (!(await hostConnected(h))) await reconnectHost(h, { wait: false });
  await hostExec(h, RESET_SCRIPT, { env: { RESET_IMAGES: images ? '1' : '0' }, timeoutMs: 120_000 });
  await waitHostReady(h, { timeoutMs: 60_000 });
}

export async function resetLab(opts: { images?: boolean } = {}): Promise<void> {
  const info = lab();
  const reg = await docker(['inspect', '-f', '{{.State.Running}}', info.registry.container], { allowFailure: true });
  if (reg.stdout.trim() !== 'true') await startRegistry();
  await Promise.all(info.hosts.map((h) => resetHost(h, opts)));
}

/** Logs a host user into the lab registry (`docker login registry:5000`). */
export async function registryLogin(ref: HostRef, user = 'root'): Promise<void> {
  const info = lab();
  await hostExec(ref, `docker login ${info.registry.server} -u ${info.registry.username} --password-stdin >/dev/null 2>&1`, {
    user,
    input: info.registry.password,
  });
}

/** Builds (and pushes) registry:5000/lab/app:VERSION with test/lab/build-app.sh; returns the image. */
export async function buildApp(version: string, { failHealth = false }: { failHealth?: boolean } = {}): Promise<string> {
  const args = [path.join(LAB_SRC, 'build-app.sh'), version];
  if (failHealth) args.push('--fail-health');
  const r = await run('bash', args, { timeoutMs: 300_000, env: { LAB_DIR } });
  return r.stdout.trim().split('\n').pop() ?? '';
}

// ------------------------------------------------------------------ HTTP

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** GET http://ip:port/path with an optional Host header (no proxies, no keep-alive). */
export function httpGet(
  ip: string,
  urlPath = '/',
  {
    host: hostHeader,
    port = 80,
    headers = {},
    timeoutMs = 5000,
    method = 'GET',
    body: requestBody,
  }: { host?: string; port?: number; headers?: Record<string, string>; timeoutMs?: number; method?: string; body?: string | Buffer } = {},
): Promise<HttpResult> {
  if (!/^127\./.test(ip) && ip !== 'localhost') {
    return Promise.reject(new Error(`lab traffic goes to 127.0.0.0/8 only (got ${ip})`));
  }
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (hostHeader) h.Host = hostHeader;
    const req = http.request({ host: ip, port, path: urlPath, method, headers: h, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} http://${ip}:${port}${urlPath}`)));
    req.on('error', reject);
    req.end(requestBody);
  });
}

export function sshListening(ip: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => {
      // docker-proxy accepts even when nothing listens behind it: wait for a byte (ssh banner)
      // or for the peer to close.
      sock.once('data', () => done(true));
      sock.once('end', () => done(false));
    });
    sock.once('error', () => done(false));
  });
}

// ------------------------------------------------------------------ the article's additions

export interface ArticleLabInfo {
  mariadbImage: string;
  appRepo: string;
  appVersions: string[];
  syslog: { container: string; address: string; file: string };
  usernsHost: LabHost;
  knownHosts: string;
}

/** Runs test/lab/article.sh (idempotent: images cached, containers kept) and returns article.json. */
export async function ensureArticleLab(): Promise<ArticleLabInfo> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [path.join(LAB_SRC, 'article.sh')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAB_DIR } });
    let tail = '';
    const onData = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      process.stderr.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`test/lab/article.sh failed (exit ${code}):\n${tail}`))));
  });
  return JSON.parse(fs.readFileSync(path.join(LAB_DIR, 'article.json'), 'utf8')) as ArticleLabInfo;
}
