/**
 * Deploys that check themselves: after the rollout, URLs are requested through each proxy host
 * (the host's own address, the URL's host in the Host header) for a while; on a wrong answer the
 * run fails, and with rollback-on-failure the previous version goes back on every host first.
 *
 * The loop is pure: the clock and the HTTP fetcher are injected.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { Kamal } from './kamal.js';
import { withLock } from './lock.js';
import { sleep } from './parallel.js';
import { rollback } from './main.js';
import type { CheckFailure, Verification, VerifySpec } from './run-context.js';

export type { CheckFailure, Verification, VerifySpec } from './run-context.js';

// ---- what to check ----

export class VerifySpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifySpecError';
  }
}

export const DEFAULT_VERIFY_STATUS = 200;
export const DEFAULT_VERIFY_FOR_MS = 30_000;
export const VERIFY_INTERVAL_MS = 2_000;
export const VERIFY_REQUEST_TIMEOUT_MS = 5_000;
const MAX_VERIFY_FOR_MS = 3_600_000;

/**
 * Parses `URL [STATUS] [TEXT]`: an absolute http(s) URL, then optionally a three-digit status
 * (default 200), then optionally the text the body must contain, the rest of the line, in double
 * quotes when it has leading or trailing spaces (`\"` and `\\` inside quotes).
 */
export function parseVerifySpec(line: string): VerifySpec {
  const text = line.trim();
  const m = /^(\S+)(?:\s+(.*))?$/s.exec(text);
  if (!m) throw new VerifySpecError('is empty: expected URL [STATUS] [TEXT]');
  const url = m[1]!;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VerifySpecError(`'${url}' is not an absolute URL: expected URL [STATUS] [TEXT], such as https://app.example.com/up 200 "OK"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new VerifySpecError(`'${url}' must be an http:// or https:// URL`);
  }
  if (parsed.username || parsed.password) throw new VerifySpecError(`'${url}' must not carry a user or password`);
  let rest = (m[2] ?? '').trim();
  let status = DEFAULT_VERIFY_STATUS;
  const s = /^(\d+)(?:\s+|$)/.exec(rest);
  if (s) {
    status = Number(s[1]);
    if (!/^\d{3}$/.test(s[1]!) || status < 100 || status > 599) {
      throw new VerifySpecError(`'${s[1]}' after ${url} is not an HTTP status (100-599)`);
    }
    rest = rest.slice(s[0].length).trim();
  }
  const spec: VerifySpec = { url: parsed.href, status };
  if (rest === '') return spec;
  if (rest.startsWith('"')) {
    const q = /^"((?:[^"\\]|\\.)*)"$/s.exec(rest);
    if (!q) throw new VerifySpecError(`the text after ${url} opens a double quote it does not close (or has more after it): ${rest}`);
    spec.contains = q[1]!.replace(/\\(.)/gs, '$1');
    if (spec.contains === '') throw new VerifySpecError(`the text after ${url} is empty`);
  } else spec.contains = rest;
  return spec;
}

/** One spec a line; blank lines and lines starting with `#` are skipped. Errors name the line. */
export function parseVerifySpecs(lines: readonly string[]): VerifySpec[] {
  const specs: VerifySpec[] = [];
  for (const [i, raw] of lines.flatMap((l) => l.split(/\r?\n/)).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      specs.push(parseVerifySpec(line));
    } catch (e) {
      if (e instanceof VerifySpecError) throw new VerifySpecError(`line ${i + 1}: ${e.message}`);
      throw e;
    }
  }
  return specs;
}

/** `30s`, `2m`, `1m30s`, `500ms`, `1h`, or plain seconds (`45`) → milliseconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(t)) ms = Number(t) * 1000;
  else {
    const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(t);
    if (!parts || t === '') throw new VerifySpecError(`'${text}' is not a duration such as 30s, 2m, 1m30s or 45 (seconds)`);
    const [, h, m, s, milli] = parts;
    ms = Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Number(s ?? 0) * 1000 + Number(milli ?? 0);
  }
  ms = Math.round(ms);
  if (ms > MAX_VERIFY_FOR_MS) throw new VerifySpecError(`'${text}' is longer than an hour`);
  return ms;
}

/** Seconds, as the logs and the summary print a window. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
}

// ---- the requests ----

/** One request to one proxy host for one spec. */
export interface Probe {
  /** The proxy host as the configuration names it (an IP address or a name). */
  host: string;
  /** What the request connects to: the host, port 80 (http) or 443 (https) unless the URL names a port. */
  port: number;
  protocol: 'http:' | 'https:';
  /** The URL's host (and port when it names one): the Host header kamal-proxy routes by. */
  hostHeader: string;
  /** The name TLS checks the certificate against (the URL's host name). */
  servername: string;
  /** Path and query. */
  path: string;
  spec: VerifySpec;
}

export interface FetchAnswer {
  status: number;
  body: string;
}

export type Fetcher = (probe: Probe, timeoutMs: number) => Promise<FetchAnswer>;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export function probeFor(host: string, spec: VerifySpec): Probe {
  const u = new URL(spec.url);
  const protocol = u.protocol as Probe['protocol'];
  return {
    host,
    port: u.port ? Number(u.port) : protocol === 'https:' ? 443 : 80,
    protocol,
    hostHeader: u.host,
    servername: u.hostname.replace(/^\[|\]$/g, ''),
    path: `${u.pathname}${u.search}`,
    spec,
  };
}

/** Every spec on every host, in spec order then host order. */
export function probesFor(hosts: readonly string[], specs: readonly VerifySpec[]): Probe[] {
  return specs.flatMap((spec) => hosts.map((host) => probeFor(host, spec)));
}

const MAX_BODY = 64 * 1024;

/** The real fetcher: node's http/https, connecting to the host, Host header and TLS name from the URL. */
export const httpFetcher: Fetcher = (probe, timeoutMs) =>
  new Promise<FetchAnswer>((resolve, reject) => {
    const request = probe.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      {
        host: probe.host,
        port: probe.port,
        path: probe.path,
        method: 'GET',
        headers: { Host: probe.hostHeader, 'User-Agent': 'kamal-action-verify', Connection: 'close' },
        ...(probe.protocol === 'https:' && !isIP(probe.servername) ? { servername: probe.servername } : {}),
        agent: false,
      },
      (res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_BODY) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${formatDuration(timeoutMs)}`)));
    req.on('error', reject);
    req.end();
  });

export const realClock = (signal?: AbortSignal): Clock => ({ now: Date.now, sleep: (ms) => sleep(ms, signal) });

// ---- the decision loop ----

export interface VerifyOutcome {
  ok: boolean;
  /** Rounds of requests made (each round asks every URL on every host once). */
  rounds: number;
  /** Requests made. */
  requests: number;
  /** How long the checks ran. */
  elapsedMs: number;
  failure?: CheckFailure;
}

export function excerpt(body: string, max = 200): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Whether one answer is right; the failure (without its time) when not. */
export function judge(probe: Probe, answer: FetchAnswer | { error: string }): Omit<CheckFailure, 'atMs'> | undefined {
  const base = {
    url: probe.spec.url,
    host: probe.host,
    expectedStatus: probe.spec.status,
    ...(probe.spec.contains !== undefined ? { contains: probe.spec.contains } : {}),
  };
  if ('error' in answer) return { ...base, reason: `request failed: ${answer.error}` };
  const wrongStatus = answer.status !== probe.spec.status;
  const missing = probe.spec.contains !== undefined && !answer.body.includes(probe.spec.contains);
  if (!wrongStatus && !missing) return undefined;
  const reasons: string[] = [];
  if (wrongStatus) reasons.push(`status ${answer.status}, expected ${probe.spec.status}`);
  if (missing) reasons.push(`body does not contain ${JSON.stringify(probe.spec.contains)}`);
  return { ...base, status: answer.status, excerpt: excerpt(answer.body), reason: reasons.join('; ') };
}

export interface VerifyLoopOptions {
  probes: readonly Probe[];
  /** How long to keep checking; one round always runs. */
  forMs: number;
  intervalMs?: number;
  timeoutMs?: number;
  clock: Clock;
  fetch: Fetcher;
  /** Called after each round that passed. */
  onRound?: (round: number, elapsedMs: number) => void;
}

/**
 * Asks every probe once per round, a round every `intervalMs` from the start, until `forMs` has
 * passed (the last round starts at or after the end of the window; at least one round). The first
 * wrong answer (status, body, or no answer) ends the loop as failed: a check that fails once
 * during the window fails the deploy. Within a round the probes run together; the failure
 * reported is the first in probe order.
 */
export async function verifyLoop(o: VerifyLoopOptions): Promise<VerifyOutcome> {
  const interval = Math.max(1, o.intervalMs ?? VERIFY_INTERVAL_MS);
  const timeout = o.timeoutMs ?? VERIFY_REQUEST_TIMEOUT_MS;
  const start = o.clock.now();
  let rounds = 0;
  let requests = 0;
  for (;;) {
    const roundStart = o.clock.now();
    rounds++;
    const verdicts = await Promise.all(
      o.probes.map(async (probe) => {
        let answer: FetchAnswer | { error: string };
        try {
          answer = await o.fetch(probe, timeout);
        } catch (e) {
          answer = { error: e instanceof Error ? e.message : String(e) };
        }
        return judge(probe, answer);
      }),
    );
    requests += o.probes.length;
    const bad = verdicts.find((v) => v !== undefined);
    const elapsed = o.clock.now() - start;
    if (bad) return { ok: false, rounds, requests, elapsedMs: elapsed, failure: { ...bad, atMs: roundStart - start } };
    o.onRound?.(rounds, elapsed);
    if (elapsed >= o.forMs) return { ok: true, rounds, requests, elapsedMs: elapsed };
    const next = Math.min(roundStart + interval, start + o.forMs);
    const wait = next - o.clock.now();
    if (wait > 0) await o.clock.sleep(wait);
  }
}

export function describeFailure(f: CheckFailure): string {
  const body = f.excerpt !== undefined ? `; body: ${JSON.stringify(f.excerpt)}` : '';
  return `${f.url} through ${f.host}: ${f.reason}${body} (after ${formatDuration(f.atMs)})`;
}

// ---- what to do after the checks ----

export type AfterVerify = { kind: 'keep' } | { kind: 'fail'; why: 'no-rollback' | 'no-previous' | 'same-version' } | { kind: 'rollback'; to: string };

/** Keep the new version, fail the run as it stands, or roll back to the previous version first. */
export function decideAfterVerify(o: { ok: boolean; rollbackOnFailure: boolean; version: string; previousVersion?: string }): AfterVerify {
  if (o.ok) return { kind: 'keep' };
  if (!o.rollbackOnFailure) return { kind: 'fail', why: 'no-rollback' };
  if (!o.previousVersion) return { kind: 'fail', why: 'no-previous' };
  if (o.previousVersion === o.version) return { kind: 'fail', why: 'same-version' };
  return { kind: 'rollback', to: o.previousVersion };
}

// ---- the deploy step ----

export interface VerifyOptions {
  specs: VerifySpec[];
  forMs: number;
  rollbackOnFailure: boolean;
  intervalMs?: number;
  timeoutMs?: number;
  fetch?: Fetcher;
  clock?: Clock;
}

/** The deploy did not pass its checks. */
export class VerifyError extends Error {
  readonly verification: Verification;
  readonly host?: string;
  constructor(message: string, verification: Verification) {
    super(message);
    this.name = 'VerifyError';
    this.verification = verification;
    if (verification.failure) this.host = verification.failure.host;
  }
}

class ChecksFailed extends Error {
  constructor(readonly outcome: VerifyOutcome) {
    super(outcome.failure ? describeFailure(outcome.failure) : 'verification failed');
  }
}

/** Hosts the checks go to: the hosts of the selected roles that run kamal-proxy. */
export function verifyHosts(k: Kamal): string[] {
  return k.proxyHosts;
}

/** Checks made before anything runs: URLs present, a role behind kamal-proxy to ask. */
export function checkVerifiable(k: Kamal, opts: VerifyOptions): void {
  if (opts.specs.length === 0) return;
  if (verifyHosts(k).length === 0) {
    throw new UsageError('--verify-url needs a role that runs kamal-proxy: the checks go through the proxy on each of its hosts');
  }
}

/** The running version before the deploy on the primary host's primary role, as the boots recorded it. */
function previousVersionFromBoots(k: Kamal, version: string): string | undefined {
  const boots = (k.boots ?? []).filter((b) => b.version === version);
  const primaryRole = k.primaryRole?.name;
  const primary = boots.find((b) => b.role === primaryRole && b.host === k.primaryHost && b.previousVersion);
  return (primary ?? boots.find((b) => b.previousVersion))?.previousVersion;
}

/**
 * Runs `rollout`, then the checks, holding the deploy lock across all of it so no other run
 * deploys in between; on a failed check rolls back (when asked) and throws VerifyError.
 */
export async function deployVerified(k: Kamal, rollout: () => Promise<void>, opts: VerifyOptions): Promise<void> {
  if (opts.specs.length === 0) return rollout();
  checkVerifiable(k, opts);
  await withLock(k, async () => {
    await rollout();
    const version = k.config.version;
    const hosts = verifyHosts(k);
    const previousVersion = previousVersionFromBoots(k, version);
    const v: Verification = {
      urls: opts.specs,
      hosts,
      forSeconds: opts.forMs / 1000,
      ok: true,
      rounds: 0,
      requests: 0,
      version,
      ...(previousVersion ? { previousVersion } : {}),
      rollbackOnFailure: opts.rollbackOnFailure,
    };
    k.verification = v;
    const list = opts.specs.map((s) => `${s.url} (${s.status}${s.contains !== undefined ? `, containing ${JSON.stringify(s.contains)}` : ''})`).join(', ');
    k.say(`Verifying ${version} for ${formatDuration(opts.forMs)} through the proxy on ${hosts.join(', ')}: ${list}`);
    if (k.dryRun) return;

    let outcome: VerifyOutcome;
    try {
      // a failed check fails the step in the timeline; what follows is decided below
      outcome = await k.step('verify', async () => {
        const o = await verifyLoop({
          probes: probesFor(hosts, opts.specs),
          forMs: opts.forMs,
          intervalMs: opts.intervalMs,
          timeoutMs: opts.timeoutMs,
          clock: opts.clock ?? realClock(k.signal),
          fetch: opts.fetch ?? httpFetcher,
        });
        if (!o.ok) throw new ChecksFailed(o);
        return o;
      });
    } catch (e) {
      if (!(e instanceof ChecksFailed)) throw e;
      outcome = e.outcome;
    }
    Object.assign(v, { ok: outcome.ok, rounds: outcome.rounds, requests: outcome.requests });
    if (outcome.failure) v.failure = outcome.failure;
    if (outcome.ok) {
      k.say(`Verified ${version}: ${outcome.requests} requests in ${outcome.rounds} rounds over ${formatDuration(outcome.elapsedMs)}, all as expected`);
      return;
    }
    const what = describeFailure(outcome.failure!);
    k.say(`Verification of ${version} failed: ${what}`, 'error');
    const next = decideAfterVerify({ ok: false, rollbackOnFailure: opts.rollbackOnFailure, version, previousVersion });
    if (next.kind === 'fail') {
      if (next.why !== 'no-rollback') v.rollback = 'skipped';
      const tail =
        next.why === 'no-rollback'
          ? `${version} stays deployed (rollback-on-failure is off${previousVersion ? `; the previous version was ${previousVersion}` : ''})`
          : next.why === 'no-previous'
            ? `nothing to roll back to: no version ran before ${version}`
            : `nothing to roll back to: ${version} was already running before this deploy`;
      throw new VerifyError(`Verification of ${version} failed: ${what}\n${tail}`, v);
    }
    if (next.kind !== 'rollback') return;
    k.say(`Rolling back from ${version} to ${next.to} on every host...`, 'warn');
    try {
      await k.step('rollback after failed verification', async () => {
        const done = await rollback(k, next.to);
        if (!done) throw new Error(`version ${next.to} is not available as a container`);
      });
    } catch (e) {
      v.rollback = 'failed';
      k.config.version = version;
      throw new VerifyError(
        `Verification of ${version} failed: ${what}\nRolling back to ${next.to} failed too: ${e instanceof Error ? e.message : String(e)}`,
        v,
      );
    }
    v.rollback = 'done';
    v.rolledBackTo = next.to;
    // the run's version stays the one it deployed (and failed): reports name both
    k.config.version = version;
    k.say(`Rolled back from ${version} to ${next.to}: ${next.to} serves again`, 'warn');
    throw new VerifyError(`Verification of ${version} failed: ${what}\nRolled back from ${version} to ${next.to} on every host`, v);
  });
}
