/** Shared helpers for end-to-end tests: lab facts, throw-away projects, the CLI in-process, HTTP checks and traffic. */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { runCli, type CliResult } from '../../src/cli/run.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface LabHost {
  name: string;
  container: string;
  ip: string;
  port: number;
  internalName: string;
}

export interface LabInfo {
  labDir: string;
  hosts: LabHost[];
  network: string;
  registry: { server: string; username: string; password: string; container: string; url: string };
  ssh: { key: string; knownHosts: string; knownHostsHashed: string; users: string[] };
  proxyImage: { registry: string; repository: string; version: string; image: string };
  appContext: string;
  dbImage: string;
}

export function lab(): LabInfo {
  const file = process.env.LAB_JSON ?? join(ROOT, '.lab/lab.json');
  return JSON.parse(readFileSync(file, 'utf8')) as LabInfo;
}

export interface ProjectOptions {
  service?: string;
  /** deploy.yml body after the service/image/registry/ssh/proxy-run preamble. */
  yaml: string;
  hooks?: Record<string, string>;
  secrets?: string;
  files?: Record<string, string>;
  /** The `registry:` section's body in place of the lab registry's (two-space indented lines). */
  registry?: string;
  /** The `builder:` section's body in place of `arch: amd64` with the VERSION build arg. */
  builder?: string;
}

/**
 * The proxy section for `host` on the lab's stand-in proxy, with short health-check, deploy and drain
 * times. `extra` is more of the proxy section; without `run`, kamal-proxy boots as boot_config decides.
 */
export function labProxyYaml(host: string, deployTimeout = 20, o: { extra?: string; run?: boolean } = {}): string {
  return `proxy:
  host: ${host}
  app_port: 80
  healthcheck:
    interval: 1
${o.extra ?? ''}${o.run === false ? '' : proxyRunYaml()}deploy_timeout: ${deployTimeout}
drain_timeout: 1
readiness_delay: 0
`;
}

/** A throw-away app folder: the lab app's Dockerfile plus a config/deploy.yml pointing at the lab. */
export function makeProject(opts: ProjectOptions): string {
  const l = lab();
  const dir = mkdtempSync(join(tmpdir(), 'kamal-e2e-'));
  cpSync(l.appContext, dir, { recursive: true });
  mkdirSync(join(dir, 'config'), { recursive: true });
  const service = opts.service ?? 'app';
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    `service: ${service}
image: lab/${service}
registry:
${opts.registry ?? `  server: ${l.registry.server}\n  username: ${l.registry.username}\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n`}ssh:
  keys: [${l.ssh.key}]
  keys_only: true
builder:
${opts.builder ?? '  arch: amd64\n  args:\n    VERSION: <%= ENV["VERSION"] %>\n'}${opts.yaml}`,
  );
  mkdirSync(join(dir, '.kamal/hooks'), { recursive: true });
  writeFileSync(join(dir, '.kamal/secrets'), opts.secrets ?? 'KAMAL_REGISTRY_PASSWORD=$LAB_REGISTRY_PASSWORD\n');
  for (const [name, body] of Object.entries(opts.hooks ?? {})) {
    writeFileSync(join(dir, '.kamal/hooks', name), body);
    chmodSync(join(dir, '.kamal/hooks', name), 0o755);
  }
  for (const [name, body] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

/** proxy.run block that points kamal-proxy at the lab's stand-in image. */
export function proxyRunYaml(indent = '  '): string {
  const p = lab().proxyImage;
  return `${indent}run:\n${indent}  registry: ${p.registry}\n${indent}  repository: ${p.repository}\n${indent}  version: ${p.version}\n`;
}

export interface KamalRun extends CliResult {
  out: string;
  err: string;
  reporter: MemoryReporter;
}

/** Runs the CLI in this process against the lab. */
export async function kamal(cwd: string, args: string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<KamalRun> {
  const l = lab();
  let out = '';
  let err = '';
  const reporter = new MemoryReporter();
  const result = await runCli(args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LAB_REGISTRY_PASSWORD: l.registry.password,
      KAMAL_ACTION_KNOWN_HOSTS: l.ssh.knownHosts,
      ...env,
    },
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    reporter,
    signal,
    confirm: async () => true,
  });
  return { ...result, out, err, reporter };
}

/** Runs a command inside a lab host container (not over SSH: for checks only). */
export function onHost(host: LabHost, command: string): string {
  return execFileSync('docker', ['exec', '-w', '/root', host.container, 'sh', '-c', command], { stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

export interface HttpResult {
  status: number;
  body: string;
}

export function httpGet(ip: string, path = '/', hostHeader?: string, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: ip, port: 80, path, method: 'GET', headers: hostHeader ? { host: hostHeader } : {}, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Continuous traffic against 127.0.0.x targets: one request at a time per
 * target, bounded by a request budget and a deadline. Counts every response
 * that is not a 200 (or that fails) as failed.
 */
export class Traffic {
  served = 0;
  failed = 0;
  readonly failures: string[] = [];
  readonly versions = new Map<string, number>();
  #stop = false;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly targets: { ip: string; host?: string }[],
    private readonly limits = { maxRequests: 200_000, maxMs: 10 * 60_000, pauseMs: 5 },
  ) {}

  start(): this {
    const deadline = Date.now() + this.limits.maxMs;
    for (const t of this.targets) {
      this.#loops.push(
        (async () => {
          while (!this.#stop && Date.now() < deadline && this.served + this.failed < this.limits.maxRequests) {
            try {
              const r = await httpGet(t.ip, '/', t.host);
              if (r.status === 200) {
                this.served++;
                const v = r.body.trim();
                this.versions.set(v, (this.versions.get(v) ?? 0) + 1);
              } else {
                this.failed++;
                if (this.failures.length < 20) this.failures.push(`${t.ip}: HTTP ${r.status} ${r.body.slice(0, 80)}`);
              }
            } catch (e) {
              this.failed++;
              if (this.failures.length < 20) this.failures.push(`${t.ip}: ${(e as Error).message}`);
            }
            if (this.limits.pauseMs) await new Promise((r) => setTimeout(r, this.limits.pauseMs));
          }
        })(),
      );
    }
    return this;
  }

  async stop(): Promise<{ served: number; failed: number }> {
    this.#stop = true;
    await Promise.all(this.#loops);
    return { served: this.served, failed: this.failed };
  }
}

/** Removes everything deploys leave on the lab hosts (containers, kamal network, ~/.kamal). */
export function resetHosts(hosts: LabHost[] = lab().hosts): void {
  for (const h of hosts) {
    onHost(
      h,
      'docker rm -f $(docker ps -aq) >/dev/null 2>&1; docker network rm kamal >/dev/null 2>&1; docker volume rm kamal-proxy-config >/dev/null 2>&1; rm -rf /root/.kamal /home/deploy/.kamal /root/app /root/db; true',
    );
  }
}
