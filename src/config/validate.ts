/**
 * Validation of a raw configuration with Kamal 2.12's messages and key paths.
 *
 * The structure is checked by the zod schema (schema.ts). On top of it come
 * the rules of Kamal's validator classes (accessory hosts, reserved labels,
 * restart policies, registry credentials, builder, proxy, env, aliases) and the
 * checks Kamal::Configuration runs after building the configuration (required
 * keys, roles and hosts, SSL, local registry, proxy run conflicts, hooks
 * output, minimum version).
 *
 * Every problem is reported, not just the first, in the order Kamal would
 * meet them: the first issue is the one Kamal itself raises.
 */
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { hostsWithTag, roleHosts, roleNames, safeToS } from './hosts.js';
import { HOOKS_OUTPUT_LEVELS, KAMAL_BUILTIN_COMMANDS, KAMAL_VERSION, defaultLocalArch } from './constants.js';
import { compareGemVersions, deepEqual, deepMerge, isBlank, isGemVersion, isPlainObject, isPresent, isTruthy, rubyToS } from './ruby.js';
import { deployConfigSchema, isStringish, unknownKeysMessage, withoutExtensions, type DeployConfig } from './schema.js';

export * from './schema.js';

export { KAMAL_VERSION, KAMAL_BUILTIN_COMMANDS, HOOKS_OUTPUT_LEVELS, defaultLocalArch } from './constants.js';

export interface ValidateOptions {
  /**
   * The local Docker architecture (amd64/arm64), used to tell whether a
   * remote builder is in use. Defaults to this machine's.
   */
  localArch?: string;
  /** When given, `require_destination: true` without a destination is an issue. */
  destination?: string | null;
  /** Checks a local path exists (for the old traefik hook names); skipped when absent. */
  fileExists?: (path: string) => boolean;
  /** Version compared with `minimum_version` (default KAMAL_VERSION). */
  kamalVersion?: string;
}

type Seg = string | number;
type Kind = 'type' | 'unknown' | 'pre' | 'post' | 'final';

interface Found {
  path: Seg[];
  message: string;
  kind: Kind;
  /** Where the check sits in Kamal's order, when that differs from `path`. */
  anchor?: Seg[];
  order?: number;
  fromSchema?: boolean;
}

/** Joins a key path the way Kamal builds its error context. */
export function formatPath(path: readonly Seg[]): string {
  return path
    .map(String)
    .filter((s) => s !== '')
    .join('/');
}

/** `servers/web/hosts: should be an array` */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

// ---------------------------------------------------------------------------
// zod issues → Kamal issues

function fromZod(iss: z.core.$ZodIssue, prefix: Seg[]): Found[] {
  const path = [...prefix, ...(iss.path as Seg[])];
  if (iss.code === 'invalid_union') {
    // The branch whose type matched (no issue at its root) explains the
    // problem; when none matched, the union's own message does.
    const matching = iss.errors.filter((branch) => branch.length > 0 && branch.every((e) => e.path.length > 0));
    if (matching.length === 1) return matching[0]!.flatMap((e) => fromZod(e, path));
    return [{ path, message: iss.message, kind: 'type', fromSchema: true }];
  }
  if (iss.code === 'unrecognized_keys') {
    return [{ path, message: unknownKeysMessage(iss.keys), kind: 'unknown', fromSchema: true }];
  }
  return [{ path, message: iss.message, kind: 'type', fromSchema: true }];
}

// ---------------------------------------------------------------------------
// Helpers over the raw input

const toS = safeToS;

function str(v: unknown): string | undefined {
  return isStringish(v) ? rubyToS(v) : undefined;
}

function roleSpecializations(servers: unknown, name: string): Record<string, unknown> {
  if (!isPlainObject(servers)) return {};
  const role = servers[name];
  return isPlainObject(role) ? role : {};
}

// ---------------------------------------------------------------------------
// Rules of Kamal's validator classes

const RESERVED_LABELS = ['destination', 'role', 'service'];
const RESTART_POLICY = /^(?:no|always|unless-stopped|on-failure(?::\d+)?)$/;

class Checker {
  readonly found: Found[] = [];
  /** zod issues under these paths are replaced by a Kamal rule. */
  readonly suppressed: Seg[][] = [];

  constructor(
    private readonly root: Record<string, unknown>,
    private readonly opts: ValidateOptions,
  ) {}

  private add(f: Found): void {
    this.found.push(f);
  }

  run(): void {
    const root = this.root;
    this.servers();
    if (root.registry === undefined || isPlainObject(root.registry)) this.registry(root.registry ?? {}, ['registry']);
    this.accessories();
    this.aliases();
    if (root.builder === undefined || isPlainObject(root.builder)) this.builder(root.builder ?? {}, ['builder']);
    if (isPlainObject(root.env)) this.env(root.env, ['env'], true);
    if (isPlainObject(root.proxy)) this.proxy(root.proxy, ['proxy']);
    this.output();
    this.finals();
  }

  private hostList(list: unknown, path: Seg[]): void {
    if (!Array.isArray(list)) return;
    list.forEach((entry, i) => {
      if (isPlainObject(entry) && Object.keys(entry).length !== 1) {
        this.add({ path: [...path, i], message: 'multiple hosts found', kind: 'pre' });
      }
    });
  }

  private labels(labels: unknown, owner: Seg[], order: number): void {
    if (!isPlainObject(labels)) return;
    for (const key of Object.keys(labels)) {
      if (RESERVED_LABELS.includes(key)) {
        this.add({
          path: [...owner, 'labels', key],
          message: 'invalid label. destination, role, and service are reserved labels',
          kind: 'post',
          anchor: owner,
          order,
        });
      }
    }
  }

  private dockerOptions(options: unknown, owner: Seg[], order: number): void {
    if (!isPlainObject(options)) return;
    const entry = Object.entries(options).find(([k]) => k === 'restart');
    if (!entry) return;
    const policy = entry[1];
    const path = [...owner, 'options', 'restart'];
    if (typeof policy !== 'string') {
      this.add({ path, message: 'should be a string. Use "no" to disable restarts', kind: 'post', anchor: owner, order });
    } else if (!RESTART_POLICY.test(policy)) {
      this.add({ path, message: 'should be no, always, unless-stopped, on-failure, or on-failure:N', kind: 'post', anchor: owner, order });
    }
  }

  private servers(): void {
    const servers = this.root.servers;
    if (Array.isArray(servers)) {
      this.hostList(servers, ['servers']);
      return;
    }
    if (!isPlainObject(servers)) return;
    for (const name of Object.keys(servers).sort()) {
      const role = servers[name];
      const p: Seg[] = ['servers', name];
      if (Array.isArray(role)) {
        this.hostList(role, p);
      } else if (isPlainObject(role)) {
        this.hostList(role.hosts, [...p, 'hosts']);
        this.labels(role.labels, p, 0);
        this.dockerOptions(role.options, p, 1);
        if (isPlainObject(role.env)) this.env(role.env, [...p, 'env'], false);
        if (isPlainObject(role.proxy)) this.proxy(role.proxy, [...p, 'proxy']);
      }
    }
  }

  private registry(reg: Record<string, unknown>, path: Seg[]): void {
    const server = str(reg.server);
    const local = server !== undefined && /^localhost[:$]/m.test(server);
    if (local) return;
    ['username', 'password'].forEach((key, order) => {
      const value = reg[key];
      if (!isPresent(value)) {
        this.add({ path: [...path, key], message: 'is required', kind: 'post', anchor: path, order });
      } else if (!(typeof value === 'string' || (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string'))) {
        this.add({
          path: [...path, key],
          message: 'should be a string or an array with one string (for secret lookup)',
          kind: 'post',
          anchor: path,
          order,
        });
      }
    });
  }

  private accessories(): void {
    const accessories = this.root.accessories;
    if (!isPlainObject(accessories)) return;
    const names = roleNames(this.root.servers);
    for (const [name, acc] of Object.entries(accessories)) {
      if (!isPlainObject(acc)) continue;
      const p: Seg[] = ['accessories', name];
      this.hostList(acc.hosts, [...p, 'hosts']);
      const hostKeys = ['host', 'hosts', 'role', 'roles', 'tag', 'tags'].filter((k) => Object.prototype.hasOwnProperty.call(acc, k));
      if (hostKeys.length !== 1) {
        this.add({ path: p, message: 'specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`', kind: 'post', order: 0 });
      }
      this.labels(acc.labels, p, 1);
      this.dockerOptions(acc.options, p, 2);
      if (Array.isArray(acc.roles)) {
        const missing = acc.roles.filter((r) => !names.includes(toS(r)));
        if (missing.length > 0) this.add({ path: p, message: `unknown roles ${missing.map(toS).join(', ')}`, kind: 'post', order: 3 });
      } else if (isTruthy(acc.role) && isStringish(acc.role) && !names.includes(rubyToS(acc.role))) {
        this.add({ path: p, message: `unknown role ${rubyToS(acc.role)}`, kind: 'post', order: 3 });
      }
      if (isPlainObject(acc.env)) this.env(acc.env, [...p, 'env'], false);
      if (isPlainObject(acc.proxy) && isPresent(acc.proxy)) this.proxy(acc.proxy, [...p, 'proxy']);
      if (isPlainObject(acc.registry) && isPresent(acc.registry)) this.registry(acc.registry, [...p, 'registry']);
    }
  }

  private aliases(): void {
    const aliases = this.root.aliases;
    if (!isPlainObject(aliases)) return;
    for (const name of Object.keys(aliases)) {
      const p: Seg[] = ['aliases', name];
      if (!/^[a-z0-9_-]+$/.test(name)) {
        this.add({
          path: p,
          message: `Invalid alias name: '${name}'. Must only contain lowercase letters, alphanumeric, hyphens and underscores.`,
          kind: 'post',
          order: 0,
        });
      } else if (KAMAL_BUILTIN_COMMANDS.includes(name)) {
        this.add({ path: p, message: `Alias '${name}' conflicts with a built-in command.`, kind: 'post', order: 1 });
      }
    }
  }

  private builder(b: Record<string, unknown>, path: Seg[]): void {
    const cache = b.cache;
    if (isPlainObject(cache) && isTruthy(cache.type) && isStringish(cache.type)) {
      const type = rubyToS(cache.type);
      if (type !== 'gha' && type !== 'registry') this.add({ path, message: `Invalid cache type: ${type}`, kind: 'post', order: 0 });
    }
    if (!isPresent(b.arch)) this.add({ path, message: 'Builder arch not set', kind: 'post', order: 1 });
    if (isTruthy(b.pack) && Array.isArray(b.arch) && b.arch.length > 1) {
      this.add({ path, message: 'buildpacks only support building for one arch', kind: 'post', order: 2 });
    }
    if (b.local === false && isBlank(b.remote)) {
      this.add({ path, message: 'Cannot disable local builds, no remote is set', kind: 'post', order: 3 });
    }
  }

  private env(env: Record<string, unknown>, path: Seg[], isRoot: boolean): void {
    const special = ['clear', 'secret', 'tags'];
    const keys = Object.keys(env);
    if (!keys.some((k) => special.includes(k))) return; // a plain hash of clear values
    const unknown = keys.filter((k) => !special.includes(k));
    if (unknown.length > 0) {
      this.add({ path, message: unknownKeysMessage(unknown), kind: 'unknown' });
      for (const k of unknown) this.suppressed.push([...path, k]);
    }
    if (!Object.prototype.hasOwnProperty.call(env, 'tags')) return;
    if (!isRoot) {
      this.add({ path, message: 'tags are only allowed in the root env', kind: 'post', order: 0 });
      this.suppressed.push([...path, 'tags']);
      return;
    }
    if (isPlainObject(env.tags)) {
      for (const [tag, value] of Object.entries(env.tags)) {
        if (isPlainObject(value)) this.env(value, [...path, 'tags', tag], false);
      }
    }
  }

  /** Kamal::Configuration::Validator::Proxy's rules; returns whether any failed. */
  private proxy(proxy: Record<string, unknown>, path: Seg[], opts: { anchor?: Seg[]; kind?: Kind } = {}): boolean {
    const before = this.found.length;
    const add = (message: string, order: number) =>
      this.add({ path, message, kind: opts.kind ?? 'post', anchor: opts.anchor, order: (opts.kind === 'final' ? 10 : 0) + order });
    if (isBlank(proxy.host) && isBlank(proxy.hosts) && isTruthy(proxy.ssl)) add('Must set a host to enable automatic SSL', 0);
    if ('host' in proxy && 'hosts' in proxy) add("Specify one of 'host' or 'hosts', not both", 1);
    const ssl = proxy.ssl;
    if (isPlainObject(ssl)) {
      if (isPresent(ssl.certificate_pem) && isBlank(ssl.private_key_pem)) {
        add('Missing private_key_pem setting (required when certificate_pem is present)', 2);
      }
      if (isPresent(ssl.private_key_pem) && isBlank(ssl.certificate_pem)) {
        add('Missing certificate_pem setting (required when private_key_pem is present)', 3);
      }
    }
    const run = proxy.run;
    if (isPlainObject(run) && run.publish === false) {
      if (isPresent(run.bind_ips) || isPresent(run.http_port) || isPresent(run.https_port)) {
        add('Cannot set http_port, https_port or bind_ips when publish is false', 4);
      }
    }
    return this.found.length > before;
  }

  private output(): void {
    const output = this.root.output;
    if (!isPlainObject(output)) return;
    for (const [key, settings] of Object.entries(output)) {
      if (!isPlainObject(settings)) continue;
      if (key === 'otel' && !isTruthy(settings.endpoint)) {
        this.add({ path: [], message: 'OTel endpoint is required', kind: 'post', anchor: ['output'], order: 0 });
      }
      if (key === 'file' && !isTruthy(settings.path)) {
        this.add({ path: [], message: 'file path is required', kind: 'post', anchor: ['output'], order: 0 });
      }
    }
  }

  // -------------------------------------------------------------------------
  // Kamal::Configuration#initialize's ensure_* checks

  private final(message: string, order: number, path: Seg[] = []): void {
    this.add({ path, message, kind: 'final', anchor: [], order });
  }

  private finals(): void {
    const root = this.root;
    const servers = root.servers;
    const names = roleNames(servers);
    // Ruby's `primary_role || "web"`: only a missing value means web; an empty name is a name
    const primaryRole = str(root.primary_role) ?? 'web';
    const registryServer = isPlainObject(root.registry) ? str(root.registry.server) : undefined;
    const localRegistry = registryServer !== undefined && /^localhost[:$]/m.test(registryServer);

    // ensure_destination_if_required
    if ('destination' in this.opts && root.require_destination === true && !this.opts.destination) {
      this.final('You must specify a destination', 0);
    }

    // ensure_required_keys_present
    for (const key of ['service', 'registry']) {
      if (!isPresent(root[key])) this.final(`Missing required configuration for ${key}`, 1);
    }
    if (root.image === undefined || root.image === null || isStringish(root.image)) {
      const image = isPresent(root.image) ? root.image : localRegistry && isPresent(root.service) ? root.service : undefined;
      if (isBlank(image)) this.final('Missing required configuration for image', 1);
    }
    if (servers === undefined) {
      if (!isPresent(root.accessories)) this.final('No servers or accessories specified', 1);
    } else if (Array.isArray(servers) || isPlainObject(servers)) {
      if (!names.includes(primaryRole)) {
        this.final(`The primary_role ${primaryRole} isn't defined`, 1);
      } else if (roleHosts(servers, primaryRole).length === 0) {
        this.final(`No servers specified for the ${primaryRole} primary_role`, 1);
      }
      if (root.allow_empty_roles !== true) {
        for (const name of names) {
          if (name === primaryRole) continue;
          if (roleHosts(servers, name).length === 0) {
            this.final(`No servers specified for the ${name} role. You can ignore this with allow_empty_roles: true`, 1);
          }
        }
      }
    }

    // ensure_valid_kamal_version
    const minimum = root.minimum_version;
    if (isStringish(minimum) && minimum !== false) {
      const min = rubyToS(minimum);
      const current = this.opts.kamalVersion ?? KAMAL_VERSION;
      if (!isGemVersion(min)) this.final(`Malformed version number string ${min}`, 2);
      else if (compareGemVersions(min, current) > 0) this.final(`Current version is ${current}, minimum required is ${min}`, 2);
    }

    // ensure_retain_containers_valid
    if (typeof root.retain_containers === 'number' && Number.isInteger(root.retain_containers) && root.retain_containers < 1) {
      this.final('Must retain at least 1 container', 3);
    }

    // ensure_valid_service_name
    const service = str(root.service);
    if (service !== undefined && isPresent(root.service) && !/^[a-z0-9_-]+$/im.test(service)) {
      this.final('Service name can only include alphanumeric characters, hyphens, and underscores', 4);
    }

    // ensure_no_traefik_reboot_hooks
    if (this.opts.fileExists) {
      const hooksPath = str(root.hooks_path) || '.kamal/hooks';
      const found = ['pre-traefik-reboot', 'post-traefik-reboot'].filter((h) => this.opts.fileExists!(`${hooksPath}/${h}`));
      if (found.length > 0) this.final(`Found ${found.join(', ')}, these should be renamed to (pre|post)-proxy-reboot`, 5);
    }

    // ensure_one_host_for_ssl_roles / ensure_unique_hosts_for_ssl_roles
    const rootProxy = isPlainObject(root.proxy) ? root.proxy : root.proxy === undefined ? {} : undefined;
    const rootProxyFailed = this.found.some((f) => f.path[0] === 'proxy' && f.path.length === 1);
    const proxies = new Map<string, Record<string, unknown>>();
    if (rootProxy && (Array.isArray(servers) || isPlainObject(servers))) {
      for (const name of names) {
        const spec = roleSpecializations(servers, name);
        const specProxy = spec.proxy;
        const running = name === primaryRole ? specProxy !== false : isTruthy(specProxy);
        if (!running) continue;
        if (!(specProxy === undefined || specProxy === null || typeof specProxy === 'boolean' || isPlainObject(specProxy))) continue;
        const roleProxy = isPlainObject(specProxy) ? specProxy : {};
        const roleFailed = this.found.some((f) => f.path[0] === 'servers' && f.path[1] === name && f.path[2] === 'proxy');
        if (roleFailed || rootProxyFailed) continue;
        const merged = deepMerge(rootProxy, roleProxy);
        if (this.proxy(merged, ['proxy'], { kind: 'final', anchor: [] })) continue;
        proxies.set(name, merged);
        const hosts = roleHosts(servers, name);
        if (isTruthy(merged.ssl) && hosts.length > 1 && !customCertificate(merged)) {
          this.final(`SSL is only supported on a single server unless you provide custom certificates, found ${hosts.length} servers for role ${name}`, 6);
        }
      }
      const sslHosts: string[] = [];
      for (const [, p] of proxies) {
        if (isTruthy(p.ssl)) sslHosts.push(...proxyHosts(p));
      }
      const counts = new Map<string, number>();
      for (const h of sslHosts) counts.set(h, (counts.get(h) ?? 0) + 1);
      const duplicates = [...counts].filter(([, n]) => n > 1).map(([h]) => h);
      if (duplicates.length > 0) this.final(`Different roles can't share the same host for SSL: ${duplicates.join(', ')}`, 7);
    }

    // ensure_local_registry_remote_builder_has_ssh_url
    const builder = root.builder;
    if (localRegistry && isPlainObject(builder)) {
      const remote = str(builder.remote);
      const arches = Array.isArray(builder.arch) ? builder.arch.map(toS) : builder.arch === undefined ? [] : [toS(builder.arch)];
      const localArch = this.opts.localArch ?? defaultLocalArch();
      const localArches = builder.local === false ? [] : remote ? arches.filter((a) => a === localArch) : arches;
      const remoteArches = remote ? arches.filter((a) => !localArches.includes(a)) : [];
      if (remoteArches.length > 0 && uriScheme(remote!) !== 'ssh') {
        this.final('Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)', 8);
      }
    }

    // ensure_no_conflicting_proxy_runs
    this.proxyRunConflicts(proxies, names);

    // ensure_valid_hooks_output!
    const hooksOutput = root.hooks_output;
    const levelOk = (v: unknown) => isStringish(v) && (HOOKS_OUTPUT_LEVELS as readonly string[]).includes(rubyToS(v));
    if (isStringish(hooksOutput)) {
      if (!levelOk(hooksOutput)) {
        this.final(`Invalid hooks_output '${rubyToS(hooksOutput)}', must be one of: ${HOOKS_OUTPUT_LEVELS.join(', ')}`, 10);
      }
    } else if (isPlainObject(hooksOutput)) {
      for (const [hook, level] of Object.entries(hooksOutput)) {
        if (isStringish(level) && !levelOk(level)) {
          this.final(`Invalid hooks_output '${rubyToS(level)}' for hook '${hook}', must be one of: ${HOOKS_OUTPUT_LEVELS.join(', ')}`, 10);
        }
      }
    }
  }

  private proxyRunConflicts(roleProxies: Map<string, Record<string, unknown>>, names: string[]): void {
    const root = this.root;
    const servers = root.servers;
    const runsByHost = new Map<string, unknown[]>();
    const hostOrder: string[] = [];
    const addHost = (h: string) => {
      if (!runsByHost.has(h)) {
        runsByHost.set(h, []);
        hostOrder.push(h);
      }
    };
    for (const name of names) for (const h of roleHosts(servers, name)) addHost(h);
    const accessories = isPlainObject(root.accessories) ? root.accessories : {};
    const accessoryHosts = new Map<string, string[]>();
    for (const [name, acc] of Object.entries(accessories)) {
      if (!isPlainObject(acc)) continue;
      const hosts = this.accessoryHosts(acc, names);
      accessoryHosts.set(name, hosts);
      for (const h of hosts) addHost(h);
    }
    for (const name of names) {
      const proxy = roleProxies.get(name);
      if (!proxy || !isPresent(proxy.run)) continue;
      for (const h of roleHosts(servers, name)) runsByHost.get(h)!.push(proxy.run);
    }
    for (const [name, acc] of Object.entries(accessories)) {
      if (!isPlainObject(acc) || !isPlainObject(acc.proxy) || !isPresent(acc.proxy.run)) continue;
      for (const h of accessoryHosts.get(name) ?? []) runsByHost.get(h)!.push(acc.proxy.run);
    }
    for (const host of hostOrder) {
      const runs = runsByHost.get(host)!;
      const distinct: unknown[] = [];
      for (const r of runs) if (!distinct.some((d) => deepEqual(d, r))) distinct.push(r);
      if (distinct.length > 1) this.final(`Conflicting proxy run configurations for host ${host}`, 9);
    }
  }

  /** Kamal::Configuration::Accessory#hosts */
  private accessoryHosts(acc: Record<string, unknown>, names: string[]): string[] {
    const servers = this.root.servers;
    const has = (k: string) => Object.prototype.hasOwnProperty.call(acc, k);
    const strings = (v: unknown) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
    if (has('host')) return strings(acc.host);
    if (has('hosts')) return strings(acc.hosts);
    const fromRole = (r: unknown) => (names.includes(toS(r)) ? roleHosts(servers, toS(r)) : []);
    if (has('role')) return fromRole(acc.role);
    if (has('roles')) return Array.isArray(acc.roles) ? acc.roles.flatMap(fromRole) : [];
    const withTag = (tag: unknown): string[] => hostsWithTag(servers, tag);
    if (has('tag')) return withTag(acc.tag);
    if (has('tags')) return Array.isArray(acc.tags) ? acc.tags.flatMap(withTag) : [];
    return [];
  }
}

function customCertificate(proxy: Record<string, unknown>): boolean {
  const ssl = proxy.ssl;
  return isPlainObject(ssl) && isPresent(ssl.certificate_pem) && isPresent(ssl.private_key_pem);
}

function proxyHosts(proxy: Record<string, unknown>): string[] {
  if (isTruthy(proxy.hosts)) return Array.isArray(proxy.hosts) ? proxy.hosts.filter((h): h is string => typeof h === 'string') : [];
  const host = str(proxy.host);
  return host !== undefined && proxy.host !== null ? host.split(',') : [];
}

function uriScheme(uri: string): string | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  return m ? m[1]!.toLowerCase() : undefined;
}

// ---------------------------------------------------------------------------
// Ordering: the order Kamal would raise these in

/** Sections of the root whose contents Kamal validates after the root keys, in this order. */
const ROOT_SECTIONS = ['servers', 'registry', 'accessories', 'aliases', 'boot', 'builder', 'env', 'logging', 'output', 'proxy', 'ssh', 'sshkit'];
const ROLE_SECTIONS = ['env', 'logging', 'proxy'];
const ACCESSORY_SECTIONS = ['env', 'proxy', 'registry'];
const ENV_KEYS = ['clear', 'secret', 'tags'];
const FAR = 1e9;

function pathIs(ctx: Seg[], pattern: Array<string | null>): boolean {
  return ctx.length === pattern.length && pattern.every((p, i) => p === null || p === ctx[i]);
}

function isEnvPath(ctx: Seg[]): boolean {
  return pathIs(ctx, ['env']) || pathIs(ctx, ['servers', null, 'env']) || pathIs(ctx, ['accessories', null, 'env']) || pathIs(ctx, ['env', 'tags', null]);
}

function deferredIndex(ctx: Seg[], seg: Seg): number {
  if (ctx.length === 0) return ROOT_SECTIONS.indexOf(String(seg));
  if (pathIs(ctx, ['servers', null])) return ROLE_SECTIONS.indexOf(String(seg));
  if (pathIs(ctx, ['accessories', null])) return ACCESSORY_SECTIONS.indexOf(String(seg));
  return -1;
}

function childIndex(ctx: Seg[], node: unknown, seg: Seg): number {
  if (Array.isArray(node)) return typeof seg === 'number' ? seg : FAR;
  if (!isPlainObject(node)) return FAR;
  const key = String(seg);
  if (pathIs(ctx, ['servers'])) {
    const i = Object.keys(node).sort().indexOf(key);
    return i < 0 ? FAR : i;
  }
  if (isEnvPath(ctx) && Object.keys(node).some((k) => ENV_KEYS.includes(k))) {
    const i = ENV_KEYS.indexOf(key);
    return i < 0 ? ENV_KEYS.length + Object.keys(node).indexOf(key) : i;
  }
  const i = Object.keys(node).indexOf(key);
  return i < 0 ? FAR : i;
}

function childOf(node: unknown, seg: Seg): unknown {
  if (Array.isArray(node) && typeof seg === 'number') return node[seg];
  if (isPlainObject(node) && Object.prototype.hasOwnProperty.call(node, String(seg))) return node[String(seg)];
  return undefined;
}

function sortKey(f: Found, root: unknown): number[] {
  const anchor = f.anchor ?? f.path;
  const inlineType = f.kind === 'type' && f.anchor === undefined;
  const key: number[] = [];
  let node = root;
  for (let d = 0; d < anchor.length; d++) {
    const ctx = anchor.slice(0, d);
    const seg = anchor[d]!;
    const deferred = deferredIndex(ctx, seg);
    const last = d === anchor.length - 1;
    if (deferred >= 0 && !(last && inlineType)) key.push(3, deferred);
    else key.push(2, childIndex(ctx, node, seg));
    node = childOf(node, seg);
  }
  const order = f.order ?? 0;
  switch (f.kind) {
    case 'type':
      key.push(0, 0);
      break;
    case 'unknown':
      key.push(1, 0);
      break;
    case 'pre':
      key.push(1.5, order);
      break;
    case 'post':
      key.push(2.5, order);
      break;
    case 'final':
      key.push(4, order);
      break;
  }
  return key;
}

function compareKeys(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function startsWith(path: Seg[], prefix: Seg[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => String(s) === String(path[i]));
}

// ---------------------------------------------------------------------------
// Entry points

/**
 * Every problem with `raw` (a parsed deploy.yml, destination already merged),
 * in the order Kamal meets them. Root `x-*` keys are ignored. Empty when valid.
 */
export function validateConfig(raw: unknown, opts: ValidateOptions = {}): ConfigIssue[] {
  if (!isPlainObject(raw)) return [{ path: '', message: 'should be a hash' }];
  const input = withoutExtensions(raw);
  const parsed = deployConfigSchema.safeParse(input);
  const schemaIssues = parsed.success ? [] : parsed.error.issues.flatMap((i) => fromZod(i, []));
  const checker = new Checker(input, opts);
  checker.run();
  const all = [...schemaIssues.filter((f) => !checker.suppressed.some((p) => startsWith(f.path, p))), ...checker.found];
  const keyed = all.map((f, i) => ({ f, i, key: sortKey(f, input) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key) || a.i - b.i);
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const { f } of keyed) {
    const issue = { path: formatPath(f.path), message: f.message };
    const id = `${issue.path}\0${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(issue);
  }
  return out;
}

/**
 * Validates and returns the normalised configuration (see schema.ts): scalars
 * under string keys as strings, root `x-*` keys removed. Throws ConfigError
 * listing every issue.
 */
export function parseConfig(raw: unknown, opts: ValidateOptions = {}): DeployConfig {
  const issues = validateConfig(raw, opts);
  if (issues.length > 0) throw new ConfigError(issues);
  const parsed = deployConfigSchema.safeParse(withoutExtensions(raw as Record<string, unknown>));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.flatMap((i) => fromZod(i, [])).map((f) => ({ path: formatPath(f.path), message: f.message })));
  }
  return parsed.data;
}
