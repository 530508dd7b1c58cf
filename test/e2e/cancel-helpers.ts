/**
 * Helpers for cancelling a rollout at a known point: the new containers running and kamal-proxy's
 * deploy to them pending on every host (the new version boots slowly, BOOT_DELAY), then the
 * signals a CI runner or a terminal sends, then watching what the hosts serve for longer than the
 * interrupted deploy could have taken to land.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { httpGet, type LabHost } from './helpers.js';

/** Runs `sh -c command` inside a lab host (without blocking the event loop). */
export function hostSh(host: LabHost, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['exec', '-w', '/root', host.container, 'sh', '-c', command], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${host.name}: ${command}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout).trim());
    });
  });
}

/**
 * Whether `container` runs on `host` and kamal-proxy has started a deploy to it that has not
 * finished: its log says "Deploying" with the container's id as target, and neither "Deployed"
 * nor a failed health check verdict for it.
 */
export async function proxyDeployPending(host: LabHost, container: string): Promise<boolean> {
  const out = await hostSh(
    host,
    `id=$(docker ps -q --filter name=^${container}$ --filter status=running); [ -n "$id" ] || exit 0; ` +
      `log=$(docker logs kamal-proxy 2>&1 | grep "\\"$id:"); ` +
      `echo "$log" | grep -q '"msg":"Deploying"' && ! echo "$log" | grep -q '"msg":"Deployed"\\|"msg":"Target failed to become healthy"' && echo pending; true`,
  );
  return out === 'pending';
}

/** The running containers of `container`'s name on `host` (ids). */
export async function runningContainers(host: LabHost, container: string): Promise<string> {
  return hostSh(host, `docker ps -q --filter name=^${container}$ --filter status=running`);
}

/** Polls `check` every 200 ms until it holds; gives up after `timeoutMs` (or when `alive` says the run is over). */
export async function waitUntil(what: string, check: () => Promise<boolean>, opts: { timeoutMs: number; alive?: () => boolean }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (opts.alive && !opts.alive()) throw new Error(`the run ended before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Cancel {
  /** When SIGINT was sent (ms since the epoch). */
  at: number;
  /** The signals sent, with the ms after SIGINT. */
  sent: { signal: NodeJS.Signals; afterMs: number }[];
  /** Resolves when the process has exited: the ms after SIGINT. */
  exited: Promise<number>;
}

/**
 * Cancels as the GitHub Actions runner does: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that,
 * each only while the process still runs (`killAfterMs`: SIGKILL that soon after SIGINT instead). With `group`, the signals go to the process group (a
 * terminal's Ctrl-C) and only SIGINT is sent.
 */
export function cancelLikeRunner(child: ChildProcess, opts: { group?: boolean; killAfterMs?: number } = {}): Cancel {
  const at = Date.now();
  const sent: Cancel['sent'] = [];
  const exited = new Promise<number>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(0);
    child.once('exit', () => resolve(Date.now() - at));
  });
  const send = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    sent.push({ signal, afterMs: Date.now() - at });
    if (opts.group) process.kill(-child.pid!, signal);
    else child.kill(signal);
  };
  send('SIGINT');
  if (!opts.group) {
    const killAt = opts.killAfterMs ?? 10_000;
    const term = setTimeout(() => send('SIGTERM'), Math.min(7500, killAt));
    const kill = setTimeout(() => send('SIGKILL'), killAt);
    void exited.then(() => {
      clearTimeout(term);
      clearTimeout(kill);
    });
  }
  return { at, sent, exited };
}

export interface Served {
  /** Response bodies (trimmed) or errors, per host, in order. */
  answers: Map<string, string[]>;
  requests: number;
}

/** Sends GET / with `hostHeader` to each host in turn until `untilMs` (epoch ms); every answer is kept. */
export async function watchServing(hosts: LabHost[], hostHeader: string, untilMs: number): Promise<Served> {
  const answers = new Map<string, string[]>(hosts.map((h) => [h.ip, []]));
  let requests = 0;
  while (Date.now() < untilMs) {
    for (const h of hosts) {
      requests++;
      try {
        const r = await httpGet(h.ip, '/', hostHeader, 3000);
        answers.get(h.ip)!.push(r.status === 200 ? r.body.trim() : `HTTP ${r.status}`);
      } catch (e) {
        answers.get(h.ip)!.push(`error: ${(e as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { answers, requests };
}

/** Each distinct answer with its count, per host: `{ '127.0.0.2': { v2: 80 } }`. */
export function tally(served: Served): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [ip, list] of served.answers) {
    out[ip] = {};
    for (const a of list) out[ip]![a] = (out[ip]![a] ?? 0) + 1;
  }
  return out;
}

/** A value the action's main step saved in its state, without the signature it carries. */
export function stateValue(state: Record<string, string>, name: string): string | undefined {
  const v = state[name];
  return v === undefined ? undefined : v.replace(/^v1\.[0-9a-f]{64}\./, '');
}
