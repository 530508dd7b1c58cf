/**
 * A small simulation of the hosts a deploy talks to, for transcript tests:
 * app containers (created, running, stopped, renamed), kamal-proxy routes
 * and the deploy lock directory, driven by the commands a RecordingRunner
 * receives. Commands it does not model succeed with no output.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScriptedResponse } from '../../../test/support/recording.js';
import { SECRET_VALUES } from '../cli/helpers.js';

export const APP_FIXTURE = fileURLToPath(new URL('../../fixtures/plan/app', import.meta.url));

/** The web hosts of the fixture app (test/fixtures/plan/app). */
export const WEB1 = '10.0.0.1';
export const WEB2 = '10.0.0.2';

/** Every literal secret value of the fixture's .kamal/secrets* files. */
export const FIXTURE_SECRETS = SECRET_VALUES;

export interface Container {
  id: string;
  name: string;
  role: string;
  version: string;
  running: boolean;
  /** Order of the last start, for `docker ps --latest`. */
  startedSeq: number;
}

export interface HostState {
  containers: Map<string, Container>;
  /** kamal-proxy service (`app-web`) → container id. */
  routes: Map<string, string>;
}

export class Fleet {
  readonly hosts = new Map<string, HostState>();
  /** Lock directories (`<host>:<dir>`) → the decoded details. */
  readonly locks = new Map<string, string>();
  /** Hosts whose `kamal-proxy deploy` fails (the health check never passes). */
  failProxyDeployOn = new Set<string>();
  #seq = 0;

  constructor(readonly service = 'app') {}

  host(name: string): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = { containers: new Map(), routes: new Map() };
      this.hosts.set(name, h);
    }
    return h;
  }

  /** A running container of `role` at `version`, routed by the proxy (a previous deploy). */
  deployed(host: string, role: string, version: string): this {
    const c = this.#create(host, role, version);
    this.host(host).routes.set(`${this.service}-${role}`, c.id);
    return this;
  }

  #create(host: string, role: string, version: string, name = `${this.service}-${role}-${version}`): Container {
    const c: Container = { id: `c${++this.#seq}${role}${version.replace(/\W/g, '')}`, name, role, version, running: true, startedSeq: this.#seq };
    this.host(host).containers.set(name, c);
    return c;
  }

  /** The version the proxy on `host` sends `role`'s traffic to, if its container runs. */
  routedVersion(host: string, role: string): string | undefined {
    const h = this.host(host);
    const id = h.routes.get(`${this.service}-${role}`);
    const c = [...h.containers.values()].find((x) => x.id === id);
    return c?.running ? c.version : undefined;
  }

  /** Versions of `role` with a running container on `host`, sorted. */
  runningVersions(host: string, role: string): string[] {
    return [...this.host(host).containers.values()]
      .filter((c) => c.role === role && c.running)
      .map((c) => c.version)
      .sort();
  }

  lockHeld(host: string, dir = `.kamal/lock-${this.service}`): boolean {
    return this.locks.has(`${host}:${dir}`);
  }

  /** A lock left behind (a crashed run): `mkdir` of it fails until it is released. */
  leaveLock(host: string, details: string, dir = `.kamal/lock-${this.service}`): this {
    this.locks.set(`${host}:${dir}`, details);
    return this;
  }

  /** The Responder for a RecordingRunner. */
  readonly respond = (host: string, command: string): ScriptedResponse | undefined => {
    if (host === 'local') return undefined;
    const h = this.host(host);
    let m: RegExpExecArray | null;

    if ((m = /^mkdir (\S+) && echo "([A-Za-z0-9+/=]+)" > \1\/details$/.exec(command))) {
      const key = `${host}:${m[1]}`;
      if (this.locks.has(key)) return { exitCode: 1, stderr: `mkdir: cannot create directory '${m[1]}': File exists` };
      this.locks.set(key, Buffer.from(m[2]!, 'base64').toString('utf8'));
      return {};
    }
    if ((m = /^rm (\S+)\/details && rm -r \1$/.exec(command))) {
      const key = `${host}:${m[1]}`;
      if (!this.locks.delete(key)) return { exitCode: 1, stderr: `rm: cannot remove '${m[1]}/details': No such file or directory` };
      return {};
    }
    if ((m = /^stat (\S+) > \/dev\/null && cat \1\/details \| base64 -d$/.exec(command))) {
      const details = this.locks.get(`${host}:${m[1]}`);
      if (details === undefined) return { exitCode: 1, stderr: `stat: cannot statx '${m[1]}': No such file or directory` };
      return { stdout: `${details}\n` };
    }

    const role = /--filter label=role=(\S+)/.exec(command)?.[1];
    const running = (r: string): Container[] => [...h.containers.values()].filter((c) => c.role === r && c.running).sort((a, b) => b.startedSeq - a.startedSeq);
    if (role && command.includes('while read line; do echo ${line#')) {
      // current_running_version (`docker ps --latest ...`) or list_versions (`docker ps ...`)
      const list = running(role).map((c) => c.name.slice(`${this.service}-${role}-`.length));
      return { stdout: list.length ? `${command.includes('--latest') ? list[0] : list.join('\n')}\n` : '' };
    }

    const byName = /^docker container ls (--all )?--filter 'name=\^(\S+)\$' --quiet( \| xargs docker (stop|start|inspect)\b.*)?$/.exec(command);
    if (byName) {
      const c = h.containers.get(byName[2]!);
      const found = c && (byName[1] || c.running) ? c : undefined;
      if (!byName[3]) return { stdout: found ? `${found.id}\n` : '' };
      if (!found) return { exitCode: 123, stderr: `"docker ${byName[4]}" requires at least 1 argument.` };
      if (byName[4] === 'inspect') return { stdout: found.running ? 'running\n' : 'exited\n' };
      if (byName[4] === 'stop') found.running = false;
      else if (!found.running) {
        found.running = true;
        found.startedSeq = ++this.#seq;
      }
      return { stdout: `${found.id}\n` };
    }
    if ((m = /^docker rename (\S+) (\S+)$/.exec(command))) {
      const c = h.containers.get(m[1]!);
      if (!c) return { exitCode: 1, stderr: `Error response from daemon: No such container: ${m[1]}` };
      h.containers.delete(m[1]!);
      c.name = m[2]!;
      h.containers.set(c.name, c);
      return {};
    }
    if ((m = /^docker run --detach .*--name (\S+) .*--env KAMAL_VERSION="([^"]+)".* --label role="([^"]+)"/.exec(command))) {
      if (h.containers.has(m[1]!))
        return { exitCode: 125, stderr: `docker: Error response from daemon: Conflict. The container name "/${m[1]}" is already in use.` };
      this.#create(host, m[3]!, m[2]!, m[1]!);
      return {};
    }
    if ((m = /^docker exec kamal-proxy kamal-proxy deploy (\S+) --target="([^":]+)[:"]/.exec(command))) {
      if (this.failProxyDeployOn.has(host)) {
        return { exitCode: 1, stderr: 'Error: target failed to become healthy within configured timeout (30s)' };
      }
      h.routes.set(m[1]!, m[2]!);
      return {};
    }
    if (/^docker container ls .* \| xargs docker logs /.test(command)) return { stdout: 'booting\nlistening on 3000\n' };
    return undefined;
  };
}

/** A fresh copy of the fixture app in a temporary folder. */
export function copyApp(dirs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-reliability-'));
  dirs.push(dir);
  cpSync(APP_FIXTURE, dir, { recursive: true });
  return dir;
}

export function removeDirs(dirs: string[]): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The environment of every run: no VERSION, no KAMAL_*. */
export function testEnv(): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME };
}

/** Lines that look like a JavaScript stack frame. */
export const STACK_FRAME = /^ {4}at /m;

/** Replaces what differs between runs by design: audit times and performer, container hostnames, lock details, rename suffixes. */
export function normalize(command: string): string {
  return command
    .replace(/^mkdir -p \.kamal && echo "\[[^\]]+\] \[[^\]]+\] /, 'mkdir -p .kamal && echo "[<at>] [<performer>] ')
    .replace(/ --hostname (\S+)-[0-9a-f]{12} /, ' --hostname $1-<hex> ')
    .replace(/^(mkdir \S+\/lock-\S+ && echo ")[A-Za-z0-9+/=]+(" > )/, '$1<details>$2')
    .replace(/_replaced_[0-9a-f]{16}/g, '_replaced_<hex>');
}

/** `host: command` lines, normalized, with the app folder shown as `<app>`. */
export function lines(transcript: readonly { host: string; command: string }[], dir?: string): string[] {
  return transcript.map((t) => `${t.host}: ${normalize(dir ? t.command.split(dir).join('<app>') : t.command)}`);
}

export const LOCK_RELEASE = 'rm .kamal/lock-app/details && rm -r .kamal/lock-app';
export const isLockAcquire = (command: string): boolean => command.startsWith('mkdir .kamal/lock-app && echo ');
