#!/usr/bin/env node
// A stand-in for basecamp/kamal-proxy v0.9.2 used by the end-to-end lab.
// It honours the CLI contract Kamal drives (run, deploy, remove, stop, pause,
// resume, list), routes by Host header and path prefix, health-checks new
// targets before switching, drains old targets, and keeps its state in
// ~/.config/kamal-proxy/kamal-proxy.state. Plain Node.js, no dependencies.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const NS_PER_MS = 1e6;
const SECOND = 1e9;

// ------------------------------------------------------------------ errors and durations

class CliError extends Error {
  constructor(message, { usageHint = false } = {}) {
    super(message);
    this.usageHint = usageHint;
  }
}

class HelpRequested extends Error {}

function parseDuration(input) {
  let s = input;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration "${input}"`);
  const units = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)?/;
  let total = 0;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m) throw new Error(`time: invalid duration "${input}"`);
    if (!m[2]) throw new Error(`time: missing unit in duration "${input}"`);
    total += parseFloat(m[1]) * units[m[2]];
    s = s.slice(m[0].length);
  }
  return Math.round(neg ? -total : total);
}

function fracString(value, div) {
  const whole = Math.floor(value / div);
  const rest = value - whole * div;
  if (rest === 0) return String(whole);
  const digits = String(rest)
    .padStart(String(div).length - 1, '0')
    .replace(/0+$/, '');
  return `${whole}.${digits}`;
}

// Go's time.Duration.String()
function formatDuration(ns) {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let u = Math.abs(Math.round(ns));
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${fracString(u, 1e3)}µs`;
  if (u < 1e9) return `${sign}${fracString(u, 1e6)}ms`;
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  let out = sign;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  return `${out}${fracString(u, 1e9)}s`;
}

function parseGoBool(v) {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function parseGoInt(v) {
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

// ------------------------------------------------------------------ CLI definition

const BOOL = 'bool';
const STR = 'string';
const SLICE = 'stringSlice';
const DUR = 'duration';
const INT = 'int';

const DEPLOY_FLAGS = {
  target: [SLICE, []],
  'read-target': [SLICE, []],
  host: [SLICE, []],
  'path-prefix': [SLICE, []],
  'strip-path-prefix': [BOOL, true],
  tls: [BOOL, false],
  'tls-staging': [BOOL, false],
  'tls-certificate-path': [STR, ''],
  'tls-private-key-path': [STR, ''],
  'tls-acme-cache-path': [STR, ''],
  'tls-redirect': [BOOL, true],
  'canonical-host': [STR, ''],
  'deploy-timeout': [DUR, 30 * SECOND],
  'drain-timeout': [DUR, 30 * SECOND],
  force: [BOOL, false],
  'health-check-path': [STR, '/up'],
  'health-check-interval': [DUR, 1 * SECOND],
  'health-check-timeout': [DUR, 5 * SECOND],
  'health-check-port': [INT, 0],
  'health-check-host': [STR, ''],
  'writer-affinity-timeout': [DUR, 1 * SECOND],
  'read-target-websockets': [BOOL, false],
  'target-timeout': [DUR, 30 * SECOND],
  'buffer-requests': [BOOL, false],
  'buffer-responses': [BOOL, false],
  'buffer-memory': [INT, 1048576],
  'max-request-body': [INT, 0],
  'max-response-body': [INT, 0],
  'error-pages': [STR, ''],
  'log-request-header': [SLICE, []],
  'log-response-header': [SLICE, []],
  'forward-headers': [BOOL, false],
  'scope-cookie-paths': [BOOL, false],
};

const COMMANDS = {
  run: {
    args: 0,
    short: 'Run the server',
    flags: {
      debug: [BOOL, false, 'DEBUG'],
      'http-port': [INT, 80, 'HTTP_PORT'],
      'https-port': [INT, 443, 'HTTPS_PORT'],
      'metrics-port': [INT, 0, 'METRICS_PORT'],
      http3: [BOOL, false],
    },
  },
  deploy: { args: 1, short: 'Deploy a target host', flags: DEPLOY_FLAGS, required: ['target'] },
  remove: { args: 1, short: 'Remove the service', flags: {}, aliases: ['rm'] },
  pause: {
    args: 1,
    short: 'Pause a service',
    flags: { 'drain-timeout': [DUR, 30 * SECOND], 'max-pause': [DUR, 30 * SECOND] },
  },
  stop: {
    args: 1,
    short: 'Stop a service',
    flags: { 'drain-timeout': [DUR, 30 * SECOND], message: [STR, ''] },
  },
  resume: { args: 1, short: 'Resume a service', flags: {} },
  list: { args: 0, short: 'List the services currently running', flags: {}, aliases: ['ls'] },
};

function findCommand(name) {
  for (const [key, spec] of Object.entries(COMMANDS)) {
    if (key === name || (spec.aliases || []).includes(name)) return [key, spec];
  }
  return [null, null];
}

function parseFlags(spec, argv) {
  const values = {};
  const given = new Set();
  const positional = [];
  for (const [name, def] of Object.entries(spec.flags)) {
    values[name] = Array.isArray(def[1]) ? [...def[1]] : def[1];
  }
  const assign = (name, raw) => {
    const [type] = spec.flags[name];
    try {
      switch (type) {
        case BOOL:
          values[name] = parseGoBool(raw);
          break;
        case INT:
          values[name] = parseGoInt(raw);
          break;
        case DUR:
          values[name] = parseDuration(raw);
          break;
        case SLICE: {
          const items = raw === '' ? [] : raw.split(',');
          values[name] = given.has(name) ? [...values[name], ...items] : items;
          break;
        }
        default:
          values[name] = raw;
      }
    } catch (err) {
      throw new CliError(`invalid argument "${raw}" for "--${name}" flag: ${err.message}`);
    }
    given.add(name);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (name === 'help') throw new HelpRequested();
      if (!Object.hasOwn(spec.flags, name)) throw new CliError(`unknown flag: --${name}`);
      let raw = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (raw === undefined) {
        if (spec.flags[name][0] === BOOL) raw = 'true';
        else if (i + 1 < argv.length) raw = argv[++i];
        else throw new CliError(`flag needs an argument: --${name}`);
      }
      assign(name, raw);
    } else if (a.startsWith('-') && a.length > 1) {
      if (a === '-h') throw new HelpRequested();
      throw new CliError(`unknown shorthand flag: '${a[1]}' in ${a}`);
    } else {
      positional.push(a);
    }
  }
  for (const [name, def] of Object.entries(spec.flags)) {
    const envName = def[2];
    if (envName && !given.has(name)) {
      const raw = process.env[`KAMAL_PROXY_${envName}`] ?? process.env[envName];
      if (raw !== undefined && raw !== '') {
        try {
          values[name] = def[0] === BOOL ? parseGoBool(raw) : def[0] === INT ? parseGoInt(raw) : raw;
        } catch {
          /* like the real proxy, a bad env value falls back to the default */
        }
      }
    }
  }
  if (positional.length !== spec.args) {
    if (spec.args === 0) throw new CliError(`unknown command "${positional[0]}" for "kamal-proxy ${spec.name}"`, { usageHint: true });
    throw new CliError(`accepts ${spec.args} arg(s), received ${positional.length}`, { usageHint: true });
  }
  for (const req of spec.required || []) {
    if (!given.has(req)) throw new CliError(`required flag(s) "${req}" not set`);
  }
  return { values, given, positional };
}

function usage() {
  const lines = [
    'Usage:',
    '  kamal-proxy [command]',
    '',
    'Available Commands:',
    ...Object.entries(COMMANDS).map(([n, s]) => `  ${n.padEnd(12)} ${s.short}`),
    '',
    'Flags:',
    '  -h, --help   help for kamal-proxy',
    '',
    'Use "kamal-proxy [command] --help" for more information about a command.',
  ];
  return lines.join('\n') + '\n';
}

function commandUsage(name, spec) {
  const flags = Object.entries(spec.flags).map(([f, d]) => `      --${f} ${d[0] === BOOL ? '' : d[0]}`.trimEnd());
  return `Usage:\n  kamal-proxy ${name}${spec.args ? ' <service>' : ''} [flags]\n\nFlags:\n${flags.join('\n')}\n  -h, --help   help for ${name}\n`;
}

// ------------------------------------------------------------------ paths

function socketPath() {
  if (process.env.KAMAL_PROXY_SOCKET) return process.env.KAMAL_PROXY_SOCKET;
  return path.join(process.env.XDG_RUNTIME_DIR || os.tmpdir(), 'kamal-proxy.sock');
}

function configDir() {
  const base = process.env.XDG_CONFIG_HOME || path.join(process.env.HOME || os.homedir(), '.config');
  return path.join(base, 'kamal-proxy');
}

function statePath() {
  return path.join(configDir(), 'kamal-proxy.state');
}

// ------------------------------------------------------------------ client

function dialError(err, sock) {
  const text =
    err.code === 'ENOENT'
      ? 'no such file or directory'
      : err.code === 'ECONNREFUSED'
        ? 'connection refused'
        : err.code === 'EACCES'
          ? 'permission denied'
          : err.message;
  return new CliError(`dial unix ${sock}: connect: ${text}`);
}

function rpc(method, params) {
  const sock = socketPath();
  return new Promise((resolve, reject) => {
    let buf = '';
    let connected = false;
    const conn = net.createConnection(sock);
    conn.setEncoding('utf8');
    conn.on('connect', () => {
      connected = true;
      conn.write(JSON.stringify({ method, params }) + '\n');
    });
    conn.on('data', (d) => (buf += d));
    conn.on('error', (err) => reject(connected ? new CliError(err.message) : dialError(err, sock)));
    conn.on('close', () => {
      if (!connected) return;
      const line = buf.split('\n')[0];
      if (!line) return reject(new CliError('unexpected EOF'));
      let reply;
      try {
        reply = JSON.parse(line);
      } catch {
        return reject(new CliError('unexpected EOF'));
      }
      if (reply.error) reject(new CliError(reply.error));
      else resolve(reply.result);
    });
  });
}

function normalizePathPrefix(p) {
  return '/' + p.replace(/^\/+|\/+$/g, '');
}

async function clientCommand(name, values, positional) {
  const service = positional[0];
  switch (name) {
    case 'deploy': {
      if (values['max-request-body'] > 0 && !values['buffer-requests']) {
        throw new CliError('max-request-body can only be set when request buffering is enabled');
      }
      if (values['max-response-body'] > 0 && !values['buffer-responses']) {
        throw new CliError('max-response-body can only be set when response buffering is enabled');
      }
      const prefixes = (values['path-prefix'].length ? values['path-prefix'] : ['/']).map(normalizePathPrefix);
      if (values.tls && prefixes.some((p) => p !== '/')) {
        throw new CliError('TLS settings must be specified on the root path service');
      }
      if (values['canonical-host'] && !values.host.includes(values['canonical-host'])) {
        throw new CliError(`canonical-host '${values['canonical-host']}' must be present in the hosts list: [${values.host.join(' ')}]`);
      }
      const forwardHeaders = values.__given.has('forward-headers') ? values['forward-headers'] : !values.tls;
      await rpc('deploy', {
        service,
        targets: values.target,
        readTargets: values['read-target'],
        deployTimeout: values['deploy-timeout'],
        drainTimeout: values['drain-timeout'],
        force: values.force,
        options: {
          hosts: values.host,
          path_prefixes: prefixes,
          strip_prefix: values['strip-path-prefix'],
          tls_enabled: values.tls,
          tls_staging: values['tls-staging'],
          tls_certificate_path: values['tls-certificate-path'],
          tls_private_key_path: values['tls-private-key-path'],
          tls_redirect: values['tls-redirect'],
          acme_cache_path: values['tls-acme-cache-path'] || path.join(configDir(), 'certs'),
          canonical_host: values['canonical-host'],
          error_page_path: values['error-pages'],
          writer_affinity_timeout: values['writer-affinity-timeout'],
          read_targets_accept_websockets: values['read-target-websockets'],
        },
        target_options: {
          health_check_config: {
            path: values['health-check-path'],
            port: values['health-check-port'],
            interval: values['health-check-interval'],
            timeout: values['health-check-timeout'],
            host: values['health-check-host'],
          },
          response_timeout: values['target-timeout'],
          buffer_requests: values['buffer-requests'],
          buffer_responses: values['buffer-responses'],
          max_memory_buffer_size: values['buffer-memory'],
          max_request_body_size: values['max-request-body'],
          max_response_body_size: values['max-response-body'],
          log_request_headers: values['log-request-header'],
          log_response_headers: values['log-response-header'],
          forward_headers: forwardHeaders,
          scope_cookie_paths: values['scope-cookie-paths'],
        },
      });
      return;
    }
    case 'remove':
      await rpc('remove', { service });
      return;
    case 'pause':
      await rpc('pause', { service, drainTimeout: values['drain-timeout'], pauseTimeout: values['max-pause'] });
      return;
    case 'stop':
      await rpc('stop', { service, drainTimeout: values['drain-timeout'], message: values.message });
      return;
    case 'resume':
      await rpc('resume', { service });
      return;
    case 'list': {
      const rows = await rpc('list', {});
      const table = [['Service', 'Host', 'Path', 'Target', 'State', 'TLS']];
      for (const r of rows) table.push([r.service, r.host, r.path, r.target, r.state, r.tls ? 'yes' : 'no']);
      const widths = table[0].map((_, c) => Math.max(...table.map((row) => String(row[c]).length)));
      for (const row of table) {
        process.stdout.write(
          row
            .map((cell, c) => String(cell).padEnd(widths[c]))
            .join('  ')
            .trimEnd() + '\n',
        );
      }
      return;
    }
    default:
      throw new CliError(`unknown command "${name}" for "kamal-proxy"`, { usageHint: true });
  }
}

// ------------------------------------------------------------------ server: logging

let DEBUG = false;

function log(level, msg, attrs = {}) {
  if (level === 'DEBUG' && !DEBUG) return;
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...attrs }) + '\n');
}

// ------------------------------------------------------------------ server: targets and services

const TARGET_PATTERN = /^(\w[-_.\w+]+)(:\d+)?$/;

class Target {
  constructor(address) {
    if (!TARGET_PATTERN.test(address)) throw new Error(`${address} :invalid host pattern`);
    const idx = address.lastIndexOf(':');
    this.address = address;
    this.host = idx >= 0 ? address.slice(0, idx) : address;
    this.port = idx >= 0 ? Number(address.slice(idx + 1)) : 80;
    this.state = 'adding';
    this.inflight = new Set();
    this.drainWaiters = [];
  }

  track(entry) {
    this.inflight.add(entry);
  }

  untrack(entry) {
    if (this.inflight.delete(entry) && this.inflight.size === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  waitIdle(timeoutMs) {
    if (this.inflight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // Let in-flight requests finish within the timeout, then cancel the rest (504).
  async drain(timeoutNs) {
    this.state = 'draining';
    const drained = await this.waitIdle(timeoutNs / NS_PER_MS);
    if (!drained) {
      for (const entry of [...this.inflight]) entry.cancel();
      log('INFO', 'Drain timed out, cancelled requests', { target: this.address });
    }
  }
}

function defaultHealthCheck() {
  return { path: '/up', port: 0, interval: SECOND, timeout: 5 * SECOND, host: '' };
}

class Service {
  constructor(name) {
    this.name = name;
    this.options = {};
    this.targetOptions = {};
    this.targets = [];
    this.readers = [];
    this.rr = 0;
    this.pause = { state: 'running', message: '', failAfter: 30 * SECOND };
    this.resumeWaiters = [];
  }

  pick() {
    if (this.targets.length === 0) return null;
    const t = this.targets[this.rr % this.targets.length];
    this.rr = (this.rr + 1) % 1_000_000;
    return t;
  }

  setPause(state, fields = {}) {
    this.pause = { ...this.pause, state, ...fields };
    if (state === 'running') {
      const waiters = this.resumeWaiters;
      this.resumeWaiters = [];
      for (const w of waiters) w();
    }
  }

  waitResume(timeoutMs) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.resumeWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  inflight() {
    let n = 0;
    for (const t of this.targets) n += t.inflight.size;
    return n;
  }

  async waitIdle(timeoutNs) {
    await Promise.all(this.targets.map((t) => t.waitIdle(timeoutNs / NS_PER_MS)));
  }

  toState() {
    const pauseState = { running: 0, paused: 1, stopped: 2 }[this.pause.state] ?? 0;
    return {
      name: this.name,
      options: this.options,
      target_options: this.targetOptions,
      active_targets: this.targets.map((t) => t.address),
      active_readers: this.readers,
      rollout_targets: null,
      rollout_readers: null,
      pause_controller: { state: pauseState, stop_message: this.pause.message, fail_after: this.pause.failAfter },
      rollout_controller: null,
    };
  }
}

// ------------------------------------------------------------------ server: routing

class Router {
  constructor() {
    this.services = new Map();
    this.routes = new Map(); // host -> [{prefix, service}] longest prefix first
    this.locks = new Map();
  }

  static keys(options) {
    const hosts = options.hosts && options.hosts.length ? options.hosts : [''];
    const prefixes = options.path_prefixes && options.path_prefixes.length ? options.path_prefixes : ['/'];
    const out = [];
    for (const h of hosts) for (const p of prefixes) out.push([h.toLowerCase(), p]);
    return out;
  }

  rebuild() {
    const routes = new Map();
    for (const svc of this.services.values()) {
      for (const [h, p] of Router.keys(svc.options)) {
        if (!routes.has(h)) routes.set(h, []);
        routes.get(h).push({ prefix: p, service: svc });
      }
    }
    for (const list of routes.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
    this.routes = routes;
  }

  conflict(name, options) {
    for (const [h, p] of Router.keys(options)) {
      const list = this.routes.get(h) || [];
      if (list.some((r) => r.prefix === p && r.service.name !== name)) return true;
    }
    return false;
  }

  lookup(hostHeader, pathname) {
    const host = stripPort(hostHeader || '').toLowerCase();
    const candidates = [host];
    const dot = host.indexOf('.');
    if (dot > 0) candidates.push('*' + host.slice(dot));
    candidates.push('');
    for (const h of candidates) {
      const list = this.routes.get(h);
      if (!list) continue;
      for (const r of list) {
        if (r.prefix === '/' || pathname === r.prefix || pathname.startsWith(r.prefix + '/')) return r;
      }
    }
    return null;
  }

  async serialized(name, fn) {
    const prev = this.locks.get(name) || Promise.resolve();
    let release;
    const next = new Promise((r) => (release = r));
    const chained = prev.then(() => next);
    this.locks.set(name, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(name) === chained) this.locks.delete(name);
    }
  }
}

function stripPort(host) {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const idx = host.lastIndexOf(':');
  return idx >= 0 ? host.slice(0, idx) : host;
}

// ------------------------------------------------------------------ server: pages

const PAGES = {
  404: 'Not Found',
  413: 'Request Entity Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function sendPage(res, status, { service = null, message = '' } = {}) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let body = null;
  const dir = service?.options?.error_page_path;
  if (dir) {
    for (const file of [`${status}.html`]) {
      try {
        body = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\{\{\s*\.Message\s*\}\}/g, escapeHtml(message));
        break;
      } catch {
        /* fall back to the built-in page */
      }
    }
  }
  if (body === null) {
    const title = `${status} ${PAGES[status] || http.STATUS_CODES[status] || ''}`;
    body = `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1>${message ? `<p>${escapeHtml(message)}</p>` : ''}</body></html>\n`;
  }
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// ------------------------------------------------------------------ server: health checks

function healthCheckOnce(target, hc, redirects = 0, pathOverride = null) {
  return new Promise((resolve) => {
    const port = hc.port || target.port;
    const headers = { 'User-Agent': 'kamal-proxy' };
    if (hc.host) headers.Host = hc.host;
    let settled = false;
    const finish = (ok, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, detail });
    };
    const req = http.request({
      host: target.host,
      port,
      path: pathOverride || hc.path,
      method: 'GET',
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(false, 'timeout');
    }, hc.timeout / NS_PER_MS);
    req.on('response', (res) => {
      res.resume();
      const status = res.statusCode;
      if (status >= 300 && status < 400 && res.headers.location && redirects < 10) {
        let loc;
        try {
          loc = new URL(res.headers.location, `http://${target.host}:${port}`);
        } catch {
          return finish(false, `bad redirect ${res.headers.location}`);
        }
        if (loc.protocol !== 'http:') return finish(false, `redirect to ${loc.href}`);
        clearTimeout(timer);
        settled = true;
        let t2;
        try {
          t2 = new Target(`${loc.hostname}:${loc.port || 80}`);
        } catch {
          resolve({ ok: false, detail: `bad redirect ${loc.href}` });
          return;
        }
        healthCheckOnce(t2, { ...hc, port: 0 }, redirects + 1, loc.pathname + loc.search).then((r) => resolve(r));
        return;
      }
      finish(status >= 200 && status < 300, `status ${status}`);
    });
    req.on('error', (err) => finish(false, err.code || err.message));
    req.end();
  });
}

async function waitHealthy(targets, hc, timeoutNs, serviceName) {
  const deadline = Date.now() + timeoutNs / NS_PER_MS;
  const one = async (target) => {
    for (;;) {
      const r = await healthCheckOnce(target, hc);
      if (r.ok) {
        target.state = 'healthy';
        log('INFO', 'Target health updated', { service: serviceName, target: target.address, success: true, state: 'healthy' });
        return true;
      }
      log('INFO', 'Healthcheck failed', { service: serviceName, target: target.address, path: hc.path, error: r.detail });
      const wait = Math.min(hc.interval / NS_PER_MS, deadline - Date.now());
      if (wait <= 0) return false;
      await new Promise((res) => setTimeout(res, wait));
      if (Date.now() >= deadline) return false;
    }
  };
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  const all = Promise.all(targets.map(one)).then((rs) => rs.every(Boolean));
  const ok = await Promise.race([all, timeout]);
  clearTimeout(timer);
  return ok;
}

// ------------------------------------------------------------------ server: proxying

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function clientIp(req) {
  const a = req.socket.remoteAddress || '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function forwardedHeaders(req, service, isTLS, target) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(k)) headers[k] = v;
  }
  const trust = !!service.targetOptions.forward_headers;
  const ip = clientIp(req);
  const prior = trust ? req.headers['x-forwarded-for'] : undefined;
  headers['x-forwarded-for'] = prior ? `${prior}, ${ip}` : ip;
  headers['x-forwarded-proto'] = (trust && req.headers['x-forwarded-proto']) || (isTLS ? 'https' : 'http');
  headers['x-forwarded-host'] = (trust && req.headers['x-forwarded-host']) || req.headers.host || '';
  headers['x-kamal-target'] = target.address;
  if (!headers['x-request-id']) headers['x-request-id'] = crypto.randomUUID();
  if (!headers['x-request-start']) headers['x-request-start'] = `t=${Date.now()}`;
  return headers;
}

function responseHeaders(pres) {
  const out = [];
  const raw = pres.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

class ProxyServer {
  constructor({ httpPort, httpsPort, metricsPort }) {
    this.router = new Router();
    this.httpPort = httpPort;
    this.httpsPort = httpsPort;
    this.metricsPort = metricsPort;
    this.servers = [];
    this.counters = { requests: 0, errors: 0 };
    this.secureContexts = new Map();
    const here = path.dirname(fileURLToPath(import.meta.url));
    this.defaultCert = {
      cert: process.env.KAMAL_PROXY_DEFAULT_CERT || path.join(here, 'default.crt'),
      key: process.env.KAMAL_PROXY_DEFAULT_KEY || path.join(here, 'default.key'),
    };
  }

  // ---------------------------------------------------------------- state
  saveState() {
    const file = statePath();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const data = JSON.stringify([...this.router.services.values()].map((s) => s.toState()));
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  }

  restoreState() {
    let list;
    try {
      list = JSON.parse(fs.readFileSync(statePath(), 'utf8'));
    } catch (err) {
      if (err.code !== 'ENOENT') log('WARN', 'Unable to restore state', { error: err.message });
      return;
    }
    for (const item of list || []) {
      const svc = new Service(item.name);
      svc.options = item.options || {};
      svc.targetOptions = item.target_options || {};
      svc.targets = (item.active_targets || []).map((a) => {
        const t = new Target(a);
        t.state = 'healthy';
        return t;
      });
      svc.readers = item.active_readers || [];
      const pc = item.pause_controller || {};
      svc.pause = {
        state: ['running', 'paused', 'stopped'][pc.state || 0] || 'running',
        message: pc.stop_message || '',
        failAfter: pc.fail_after || 30 * SECOND,
      };
      this.router.services.set(svc.name, svc);
    }
    this.router.rebuild();
    log('INFO', 'Restored saved state', { services: this.router.services.size, path: statePath() });
  }

  // ---------------------------------------------------------------- commands
  async deploy(p) {
    const targets = (p.targets || []).map((a) => new Target(a));
    if (targets.length === 0) throw new Error('no targets');
    const options = { ...p.options };
    options.hosts = (options.hosts || []).map((h) => h.toLowerCase());
    if (options.hosts.length === 0) options.hosts = [''];
    if (options.tls_enabled && !options.tls_certificate_path && options.hosts.some((h) => h.startsWith('*'))) {
      throw new Error('automatic TLS does not support wildcards');
    }
    if (options.tls_certificate_path || options.tls_private_key_path) {
      try {
        tls.createSecureContext({
          cert: fs.readFileSync(options.tls_certificate_path),
          key: fs.readFileSync(options.tls_private_key_path),
        });
      } catch {
        throw new Error('unable to load certificate');
      }
    }
    if (options.error_page_path) {
      try {
        if (!fs.statSync(options.error_page_path).isDirectory()) throw new Error();
      } catch {
        throw new Error('unable to load error pages');
      }
    }
    const targetOptions = { ...p.target_options };
    targetOptions.health_check_config = { ...defaultHealthCheck(), ...(targetOptions.health_check_config || {}) };

    // As kamal-proxy's Router.DeployService: deploys of one service wait for their targets' health
    // independently (a pending deploy does not hold up a later one); only installing the new targets
    // is serialized, and the last to become healthy wins. A target that disappears (its container
    // stopped: no DNS name, no connection) never becomes healthy, so its deploy fails at the
    // deploy timeout and the targets in place keep serving.
    log('INFO', 'Deploying', { service: p.service, targets: p.targets, hosts: options.hosts, paths: options.path_prefixes });
    if (!p.force) {
      const ok = await waitHealthy(targets, targetOptions.health_check_config, p.deployTimeout, p.service);
      if (!ok) {
        log('INFO', 'Target failed to become healthy', { service: p.service, targets: p.targets });
        throw new Error(`target failed to become healthy within configured timeout (${formatDuration(p.deployTimeout)})`);
      }
    } else {
      for (const t of targets) t.state = 'healthy';
    }
    const old = await this.router.serialized(p.service, async () => {
      if (this.router.conflict(p.service, options)) throw new Error('host settings conflict with another service');

      let svc = this.router.services.get(p.service);
      const old = svc ? svc.targets : [];
      if (!svc) {
        svc = new Service(p.service);
        this.router.services.set(p.service, svc);
      }
      svc.options = options;
      svc.targetOptions = targetOptions;
      svc.targets = targets;
      svc.readers = p.readTargets || [];
      this.router.rebuild();
      this.saveState();
      log('INFO', 'Deployed', { service: p.service, targets: p.targets });
      return old;
    });
    await Promise.all(old.map((t) => t.drain(p.drainTimeout)));
    return null;
  }

  async remove(p) {
    if (!this.router.services.delete(p.service)) throw new Error('service not found');
    this.router.rebuild();
    this.saveState();
    log('INFO', 'Removed', { service: p.service });
    return null;
  }

  service(name) {
    const svc = this.router.services.get(name);
    if (!svc) throw new Error('service not found');
    return svc;
  }

  async stop(p) {
    const svc = this.service(p.service);
    svc.setPause('stopped', { message: p.message || '' });
    this.saveState();
    await svc.waitIdle(p.drainTimeout);
    log('INFO', 'Service stopped', { service: p.service });
    return null;
  }

  async pause(p) {
    const svc = this.service(p.service);
    svc.setPause('paused', { failAfter: p.pauseTimeout });
    this.saveState();
    await svc.waitIdle(p.drainTimeout);
    log('INFO', 'Service paused', { service: p.service });
    return null;
  }

  async resume(p) {
    const svc = this.service(p.service);
    svc.setPause('running', { message: '' });
    this.saveState();
    log('INFO', 'Service resumed', { service: p.service });
    return null;
  }

  async list() {
    const rows = [];
    for (const svc of this.router.services.values()) {
      rows.push({
        service: svc.name,
        host: (svc.options.hosts || ['']).map((h) => h || '*').join(','),
        path: (svc.options.path_prefixes || ['/']).join(','),
        target: svc.targets.map((t) => t.address).join(','),
        state: svc.pause.state,
        tls: !!svc.options.tls_enabled,
      });
    }
    return rows;
  }

  // ---------------------------------------------------------------- HTTP
  async handle(req, res, isTLS) {
    const started = process.hrtime.bigint();
    this.counters.requests++;
    const qIdx = req.url.indexOf('?');
    const pathname = qIdx >= 0 ? req.url.slice(0, qIdx) : req.url;
    const query = qIdx >= 0 ? req.url.slice(qIdx) : '';
    const route = this.router.lookup(req.headers.host, pathname);
    let targetAddress = '';
    res.on('finish', () => {
      const attrs = {
        host: req.headers.host || '',
        port: isTLS ? this.httpsPort : this.httpPort,
        path: pathname,
        request_id: req.headers['x-request-id'] || '',
        status: res.statusCode,
        service: route ? route.service.name : '',
        target: targetAddress,
        duration: Number(process.hrtime.bigint() - started),
        method: req.method,
        req_content_length: Number(req.headers['content-length'] || 0),
        req_content_type: req.headers['content-type'] || '',
        resp_content_length: Number(res.getHeader('content-length') || 0),
        resp_content_type: res.getHeader('content-type') || '',
        client_addr: clientIp(req),
        remote_addr: clientIp(req),
        user_agent: req.headers['user-agent'] || '',
        proto: `HTTP/${req.httpVersion}`,
        scheme: isTLS ? 'https' : 'http',
        query: query.slice(1),
      };
      if (route) {
        for (const h of route.service.targetOptions.log_request_headers || [])
          attrs[`req_${h.toLowerCase().replace(/-/g, '_')}`] = req.headers[h.toLowerCase()] || '';
        for (const h of route.service.targetOptions.log_response_headers || []) attrs[`resp_${h.toLowerCase().replace(/-/g, '_')}`] = res.getHeader(h) || '';
      }
      log('INFO', 'Request', attrs);
    });

    if (!route) return sendPage(res, 404);
    const svc = route.service;
    const hc = svc.targetOptions.health_check_config || defaultHealthCheck();

    if (svc.options.tls_enabled && !isTLS && svc.options.tls_redirect !== false) {
      const host = stripPort(req.headers.host || '');
      const port = this.httpsPort === 443 ? '' : `:${this.httpsPort}`;
      res.writeHead(301, { Location: `https://${host}${port}${req.url}`, 'Content-Length': 0 });
      return res.end();
    }
    if (svc.options.canonical_host && stripPort(req.headers.host || '').toLowerCase() !== svc.options.canonical_host.toLowerCase()) {
      res.writeHead(301, { Location: `${isTLS ? 'https' : 'http'}://${svc.options.canonical_host}${req.url}`, 'Content-Length': 0 });
      return res.end();
    }

    if (svc.pause.state !== 'running') {
      if ((req.method === 'GET' || req.method === 'HEAD') && pathname === hc.path) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
        return res.end(req.method === 'HEAD' ? undefined : 'OK');
      }
      if (svc.pause.state === 'stopped') return sendPage(res, 503, { service: svc, message: svc.pause.message });
      const resumed = await svc.waitResume(svc.pause.failAfter / NS_PER_MS);
      if (!resumed && svc.pause.state !== 'running') return sendPage(res, 504, { service: svc });
      return this.handle(req, res, isTLS);
    }

    const target = svc.pick();
    if (!target) return sendPage(res, 503, { service: svc });
    targetAddress = target.address;

    let forwardPath = req.url;
    if (svc.options.strip_prefix !== false && route.prefix !== '/') {
      let rest = pathname.slice(route.prefix.length);
      if (!rest.startsWith('/')) rest = '/' + rest;
      forwardPath = rest + query;
    }
    this.forward(svc, target, req, res, forwardPath, isTLS);
  }

  forward(svc, target, req, res, forwardPath, isTLS) {
    const opts = svc.targetOptions;
    const headers = forwardedHeaders(req, svc, isTLS, target);
    let preq = null;
    let timer = null;
    const entry = {
      cancel: () => {
        entry.cancelled = true;
        if (preq) preq.destroy();
        if (!res.headersSent) sendPage(res, 504, { service: svc });
        else res.destroy();
      },
    };
    target.track(entry);
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished && preq) preq.destroy();
      target.untrack(entry);
    });

    const maxReq = opts.buffer_requests ? opts.max_request_body_size || 0 : 0;
    if (maxReq > 0 && Number(req.headers['content-length'] || 0) > maxReq) {
      req.resume();
      return sendPage(res, 413, { service: svc });
    }

    const start = (body) => {
      if (body) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      preq = http.request({
        host: target.host,
        port: target.port,
        method: req.method,
        path: forwardPath,
        headers,
        agent: false,
      });
      const responseTimeout = (opts.response_timeout || 30 * SECOND) / NS_PER_MS;
      timer = setTimeout(() => {
        entry.timedOut = true;
        preq.destroy();
      }, responseTimeout);
      preq.on('response', (pres) => {
        clearTimeout(timer);
        const maxResp = opts.buffer_responses ? opts.max_response_body_size || 0 : 0;
        if (maxResp > 0 && Number(pres.headers['content-length'] || 0) > maxResp) {
          pres.resume();
          return sendPage(res, 413, { service: svc });
        }
        if (opts.buffer_responses) {
          const chunks = [];
          let size = 0;
          pres.on('data', (c) => {
            size += c.length;
            if (maxResp > 0 && size > maxResp) {
              pres.destroy();
              sendPage(res, 413, { service: svc });
              return;
            }
            chunks.push(c);
          });
          pres.on('end', () => {
            if (res.headersSent) return;
            const body = Buffer.concat(chunks);
            const h = responseHeaders(pres);
            const clean = [];
            for (let i = 0; i < h.length; i += 2) {
              if (h[i].toLowerCase() !== 'content-length') clean.push(h[i], h[i + 1]);
            }
            clean.push('Content-Length', String(body.length));
            res.writeHead(pres.statusCode, clean);
            res.end(req.method === 'HEAD' ? undefined : body);
          });
          pres.on('error', () => res.destroy());
          return;
        }
        res.writeHead(pres.statusCode, responseHeaders(pres));
        pres.pipe(res);
        pres.on('error', () => res.destroy());
        pres.on('aborted', () => res.destroy());
      });
      preq.on('error', (err) => {
        clearTimeout(timer);
        if (entry.cancelled) return;
        this.counters.errors++;
        log('DEBUG', 'Proxy error', { service: svc.name, target: target.address, error: err.code || err.message });
        if (!res.headersSent) sendPage(res, entry.timedOut ? 504 : 502, { service: svc });
        else res.destroy();
      });
      if (body) preq.end(body);
      else req.pipe(preq);
    };

    if (opts.buffer_requests) {
      const chunks = [];
      let size = 0;
      let tooBig = false;
      req.on('data', (c) => {
        if (tooBig) return;
        size += c.length;
        if (maxReq > 0 && size > maxReq) {
          tooBig = true;
          sendPage(res, 413, { service: svc });
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (!tooBig) start(Buffer.concat(chunks));
      });
    } else {
      start(null);
    }
  }

  handleUpgrade(req, socket, head) {
    const qIdx = req.url.indexOf('?');
    const pathname = qIdx >= 0 ? req.url.slice(0, qIdx) : req.url;
    const route = this.router.lookup(req.headers.host, pathname);
    const svc = route?.service;
    const target = svc && svc.pause.state === 'running' ? svc.pick() : null;
    if (!target) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(target.port, target.host, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
      lines.push(`X-Kamal-Target: ${target.address}`, `X-Forwarded-For: ${clientIp(req)}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head && head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const entry = { cancel: () => (upstream.destroy(), socket.destroy()) };
    target.track(entry);
    const done = () => target.untrack(entry);
    upstream.on('close', done);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }

  secureContextFor(servername) {
    const route = this.router.lookup(servername || '', '/');
    const o = route?.service?.options;
    const cert = o?.tls_certificate_path || this.defaultCert.cert;
    const key = o?.tls_private_key_path || this.defaultCert.key;
    const cacheKey = `${cert}\0${key}`;
    let ctx = this.secureContexts.get(cacheKey);
    if (!ctx) {
      ctx = tls.createSecureContext({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
      this.secureContexts.set(cacheKey, ctx);
    }
    return ctx;
  }

  // ---------------------------------------------------------------- RPC
  handleRpc(conn) {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', async (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let reply;
      try {
        const { method, params } = JSON.parse(line);
        const fn = { deploy: 1, remove: 1, stop: 1, pause: 1, resume: 1, list: 1 }[method] ? this[method] : null;
        if (!fn) throw new Error(`rpc: can't find method kamal-proxy.${method}`);
        reply = { result: (await fn.call(this, params || {})) ?? null };
      } catch (err) {
        reply = { error: err.message };
      }
      conn.end(JSON.stringify(reply) + '\n');
    });
  }

  listen(server, port, label) {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        this.servers.push(server);
        resolve(server.address().port);
      });
    }).catch((err) => {
      throw new Error(`${label}: listen tcp :${port}: ${err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.message}`);
    });
  }

  async start() {
    this.restoreState();
    const httpServer = http.createServer((req, res) => this.handle(req, res, false));
    httpServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    httpServer.keepAliveTimeout = 60_000;
    this.httpPort = await this.listen(httpServer, this.httpPort, 'http');

    let haveDefault = false;
    try {
      fs.accessSync(this.defaultCert.cert);
      fs.accessSync(this.defaultCert.key);
      haveDefault = true;
    } catch {
      haveDefault = false;
    }
    const httpsOptions = {
      SNICallback: (servername, cb) => {
        try {
          cb(null, this.secureContextFor(servername));
        } catch (err) {
          cb(err);
        }
      },
    };
    if (haveDefault) {
      httpsOptions.cert = fs.readFileSync(this.defaultCert.cert);
      httpsOptions.key = fs.readFileSync(this.defaultCert.key);
    }
    const httpsServer = https.createServer(httpsOptions, (req, res) => this.handle(req, res, true));
    httpsServer.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket, head));
    this.httpsPort = await this.listen(httpsServer, this.httpsPort, 'https');

    if (this.metricsPort) {
      const metrics = http.createServer((req, res) => {
        const body =
          `# TYPE kamal_proxy_http_requests_total counter\nkamal_proxy_http_requests_total ${this.counters.requests}\n` +
          `# TYPE kamal_proxy_http_errors_total counter\nkamal_proxy_http_errors_total ${this.counters.errors}\n`;
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
        res.end(body);
      });
      this.metricsPort = await this.listen(metrics, this.metricsPort, 'metrics');
    }

    const sock = socketPath();
    try {
      fs.unlinkSync(sock);
    } catch {
      /* not there */
    }
    fs.mkdirSync(path.dirname(sock), { recursive: true });
    const rpcServer = net.createServer((conn) => this.handleRpc(conn));
    await new Promise((resolve, reject) => {
      rpcServer.once('error', reject);
      rpcServer.listen(sock, resolve);
    });
    this.rpcServer = rpcServer;
    this.socket = sock;
    log('INFO', 'Server started', {
      http: this.httpPort,
      https: this.httpsPort,
      metrics: this.metricsPort || 0,
      socket: sock,
      state: statePath(),
      version: 'v0.9.2-lab',
    });
  }

  async shutdown() {
    log('INFO', 'Server stopping');
    const closing = this.servers.map(
      (s) =>
        new Promise((resolve) => {
          s.close(() => resolve());
          s.closeIdleConnections?.();
        }),
    );
    if (this.rpcServer) this.rpcServer.close();
    try {
      fs.unlinkSync(this.socket);
    } catch {
      /* already gone */
    }
    const forced = new Promise((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([Promise.all(closing), forced]);
    log('INFO', 'Server stopped');
  }
}

async function runServer(values) {
  DEBUG = !!values.debug;
  const server = new ProxyServer({
    httpPort: values['http-port'],
    httpsPort: values['https-port'],
    metricsPort: values['metrics-port'],
  });
  await server.start();
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ------------------------------------------------------------------ main

async function main(argv) {
  const [cmdName, ...rest] = argv;
  if (!cmdName || cmdName === 'help' || cmdName === '--help' || cmdName === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  if (cmdName.startsWith('-')) throw new CliError(`unknown flag: ${cmdName}`);
  const [name, spec] = findCommand(cmdName);
  if (!spec) throw new CliError(`unknown command "${cmdName}" for "kamal-proxy"`, { usageHint: true });
  let parsed;
  try {
    parsed = parseFlags({ ...spec, name }, rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(commandUsage(name, spec));
      return 0;
    }
    throw err;
  }
  parsed.values.__given = parsed.given;
  if (name === 'run') {
    await runServer(parsed.values);
    return null;
  }
  await clientCommand(name, parsed.values, parsed.positional);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== null) process.exitCode = code;
  },
  (err) => {
    if (err instanceof CliError) {
      process.stderr.write(`Error: ${err.message}\n`);
      if (err.usageHint) process.stderr.write(`Run 'kamal-proxy --help' for usage.\n`);
    } else {
      process.stderr.write(`Error: ${err && err.message ? err.message : String(err)}\n`);
    }
    process.exit(1);
  },
);
