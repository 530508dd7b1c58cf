import { isIP } from 'node:net';
import { PROXY_MINIMUM_VERSION } from '../config/constants.js';
import { ConfigError } from '../errors.js';
import type { Secret, SecretStore } from '../secret.js';
import type { Word } from '../shell.js';
import { fetchSecret } from './env.js';
import { argumentize, deepEqual, deepMerge, isPlainObject, isPresent, optionize, toS, type RawObject } from './utils.js';
import { Volume } from './volume.js';

export const DEFAULT_LOG_REQUEST_HEADERS = ['Cache-Control', 'Last-Modified', 'User-Agent'];
export const PROXY_CONTAINER_NAME = 'kamal-proxy';
export { PROXY_MINIMUM_VERSION } from '../config/constants.js';
export const DEFAULT_HTTP_PORT = 80;
export const DEFAULT_HTTPS_PORT = 443;
export const DEFAULT_LOG_MAX_SIZE = '10m';

const APPS_CONTAINER_DIRECTORY = '/home/kamal-proxy/.apps-config';

function join(...parts: (string | undefined | null)[]): string {
  return parts
    .filter((p): p is string => p !== undefined && p !== null && p !== '')
    .join('/')
    .replace(/\/{2,}/g, '/');
}

function isIPv6(ip: string): boolean {
  return isIP(ip) === 6;
}

function formatBindIp(ip: string | undefined): string | undefined {
  if (ip !== undefined && isIPv6(ip) && !/^\[.*\]$/.test(ip)) return `[${ip}]`;
  return ip;
}

function publishArgsFor(httpPort: unknown, httpsPort: unknown, bindIps: readonly string[] | null | undefined): Word[] {
  const ips: (string | undefined)[] = bindIps && bindIps.length > 0 ? [...bindIps] : [undefined];
  return ips.flatMap((ip) => {
    const bind = formatBindIp(ip);
    const http = [bind, httpPort, DEFAULT_HTTP_PORT].filter((x) => x !== undefined && x !== null).join(':');
    const https = [bind, httpsPort, DEFAULT_HTTPS_PORT].filter((x) => x !== undefined && x !== null).join(':');
    return argumentize('--publish', [http, https]);
  });
}

/** kamal-proxy settings for an app role or accessory. */
/** What the proxy sections read from the configuration they belong to. */
export interface ProxyConfiguration {
  readonly deployTimeout: number;
  readonly drainTimeout: number;
  readonly errorPagesPath: string | undefined;
  readonly proxyBoot: ProxyBoot;
  readonly runDirectory: string;
  readonly serviceAndDestination: string;
  readonly version: string;
}

export class Proxy {
  readonly config: ProxyConfiguration;
  readonly proxyConfig: RawObject;
  readonly roleName: string | undefined;
  readonly secrets: SecretStore;
  readonly context: string;
  readonly run: ProxyRun | undefined;

  constructor(opts: { config: ProxyConfiguration; proxyConfig: RawObject | null | undefined; roleName?: string; secrets: SecretStore; context?: string }) {
    this.config = opts.config;
    this.proxyConfig = isPlainObject(opts.proxyConfig) ? opts.proxyConfig : {};
    this.roleName = opts.roleName;
    this.secrets = opts.secrets;
    this.context = opts.context ?? 'proxy';
    const run = this.proxyConfig.run;
    this.run = isPresent(run) && isPlainObject(run) ? new ProxyRun(this.config, { runConfig: run, context: `${this.context}/run` }) : undefined;
  }

  get appPort(): number | string {
    return this.proxyConfig.app_port ?? 80;
  }

  get ssl(): boolean {
    const ssl = this.proxyConfig.ssl;
    return ssl === undefined || ssl === null ? false : !!ssl;
  }

  get hosts(): string[] {
    if (this.proxyConfig.hosts) return this.proxyConfig.hosts.map(String);
    if (this.proxyConfig.host) return String(this.proxyConfig.host).split(',');
    return [];
  }

  get customSslCertificate(): boolean {
    const ssl = this.proxyConfig.ssl;
    if (!isPlainObject(ssl)) return false;
    return isPresent(ssl.certificate_pem) && isPresent(ssl.private_key_pem);
  }

  /** The secret names of the custom certificate and key. */
  get certificatePemName(): string | undefined {
    const ssl = this.proxyConfig.ssl;
    return isPlainObject(ssl) ? ssl.certificate_pem : undefined;
  }

  get privateKeyPemName(): string | undefined {
    const ssl = this.proxyConfig.ssl;
    return isPlainObject(ssl) ? ssl.private_key_pem : undefined;
  }

  get certificatePemContent(): Secret | undefined {
    const name = this.certificatePemName;
    return name === undefined ? undefined : fetchSecret(this.secrets, name);
  }

  get privateKeyPemContent(): Secret | undefined {
    const name = this.privateKeyPemName;
    return name === undefined ? undefined : fetchSecret(this.secrets, name);
  }

  get hostTlsCert(): string | undefined {
    return this.tlsPath(this.config.proxyBoot.tlsDirectory, 'cert.pem');
  }

  get hostTlsKey(): string | undefined {
    return this.tlsPath(this.config.proxyBoot.tlsDirectory, 'key.pem');
  }

  get containerTlsCert(): string | undefined {
    return this.tlsPath(this.config.proxyBoot.tlsContainerDirectory, 'cert.pem');
  }

  get containerTlsKey(): string | undefined {
    return this.customSslCertificate ? this.tlsPath(this.config.proxyBoot.tlsContainerDirectory, 'key.pem') : undefined;
  }

  get pathPrefixes(): string[] {
    if (this.proxyConfig.path_prefixes) return this.proxyConfig.path_prefixes.map(String);
    if (this.proxyConfig.path_prefix) return String(this.proxyConfig.path_prefix).split(',');
    return [];
  }

  /** kamal-proxy deploy options, in Kamal's order; unset options are left out. */
  deployOptions(): Map<string, unknown> {
    const pc = this.proxyConfig;
    const hc = isPlainObject(pc.healthcheck) ? pc.healthcheck : {};
    const buffering = isPlainObject(pc.buffering) ? pc.buffering : undefined;
    const logging = isPlainObject(pc.logging) ? pc.logging : {};
    const entries: [string, unknown][] = [
      ['host', this.hosts],
      ['tls', this.ssl ? true : undefined],
      ['tls-certificate-path', this.containerTlsCert],
      ['tls-private-key-path', this.containerTlsKey],
      ['deploy-timeout', secondsDuration(this.config.deployTimeout)],
      ['drain-timeout', secondsDuration(this.config.drainTimeout)],
      ['health-check-interval', secondsDuration(hc.interval)],
      ['health-check-timeout', secondsDuration(hc.timeout)],
      ['health-check-path', hc.path],
      ['target-timeout', secondsDuration(pc.response_timeout)],
      ['buffer-requests', buffering && 'requests' in buffering ? buffering.requests : true],
      ['buffer-responses', buffering && 'responses' in buffering ? buffering.responses : true],
      ['buffer-memory', buffering?.memory],
      ['max-request-body', buffering?.max_request_body],
      ['max-response-body', buffering?.max_response_body],
      ['path-prefix', this.pathPrefixes],
      ['strip-path-prefix', pc.strip_path_prefix],
      ['forward-headers', pc.forward_headers],
      ['tls-redirect', pc.ssl_redirect],
      ['log-request-header', logging.request_headers ?? DEFAULT_LOG_REQUEST_HEADERS],
      ['log-response-header', logging.response_headers],
      ['error-pages', this.errorPages()],
    ];
    return new Map(entries.filter(([, v]) => v !== undefined && v !== null));
  }

  deployCommandArgs(opts: { target: string }): Word[] {
    const args = new Map<string, unknown>([['target', `${opts.target}:${toS(this.appPort)}`]]);
    for (const [k, v] of this.deployOptions()) args.set(k, v);
    return optionize(args, { with: '=' });
  }

  stopOptions(opts: { drainTimeout?: number | string; message?: string } = {}): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const drain = secondsDuration(opts.drainTimeout);
    if (drain !== undefined) out.set('drain-timeout', drain);
    if (opts.message !== undefined && opts.message !== null) out.set('message', opts.message);
    return out;
  }

  stopCommandArgs(opts: { drainTimeout?: number | string; message?: string } = {}): Word[] {
    return optionize(this.stopOptions(opts), { with: '=' });
  }

  /** `other` overridden by this proxy's settings (Kamal: role settings win over the root proxy). */
  merge(other: Proxy): Proxy {
    return new Proxy({
      config: this.config,
      proxyConfig: deepMerge(other.proxyConfig, this.proxyConfig),
      roleName: this.roleName,
      secrets: this.secrets,
      context: this.context,
    });
  }

  private tlsPath(directory: string, filename: string): string | undefined {
    return this.customSslCertificate ? join(directory, this.roleName, filename) : undefined;
  }

  private errorPages(): string | undefined {
    return this.config.errorPagesPath ? join(this.config.proxyBoot.errorPagesContainerDirectory, this.config.version) : undefined;
  }
}

function secondsDuration(value: unknown): string | undefined {
  return value === undefined || value === null || value === false ? undefined : `${toS(value)}s`;
}

/** The legacy proxy boot settings kept in files under `.kamal/proxy` (`kamal proxy boot_config`). */
export class ProxyBoot {
  readonly config: ProxyConfiguration;

  constructor(opts: { config: ProxyConfiguration }) {
    this.config = opts.config;
  }

  /** `--publish` args for `proxy boot_config set`; throws on an invalid bind IP. */
  publishArgs(httpPort: number | string, httpsPort: number | string, bindIps?: readonly string[] | null): Word[] {
    for (const ip of bindIps ?? []) {
      if (isIP(ip) === 0) throw new ConfigError(`Invalid publish IP address: ${ip}`);
    }
    return publishArgsFor(httpPort, httpsPort, bindIps);
  }

  loggingArgs(maxSize: string | null | undefined): Word[] | undefined {
    return isPresent(maxSize) ? argumentize('--log-opt', `max-size=${maxSize}`) : undefined;
  }

  /** The boot options used when no options file exists: `--publish 80:80 --publish 443:443 --log-opt max-size=10m`. */
  defaultBootOptions(): string[] {
    return [...publishArgsFor(DEFAULT_HTTP_PORT, DEFAULT_HTTPS_PORT, undefined), ...(this.loggingArgs(DEFAULT_LOG_MAX_SIZE) ?? [])].map((w) => w as string);
  }

  get repositoryName(): string {
    return 'basecamp';
  }
  get imageName(): string {
    return 'kamal-proxy';
  }
  get imageDefault(): string {
    return `${this.repositoryName}/${this.imageName}`;
  }
  get containerName(): string {
    return PROXY_CONTAINER_NAME;
  }
  get hostDirectory(): string {
    return join(this.config.runDirectory, 'proxy');
  }
  get optionsFile(): string {
    return join(this.hostDirectory, 'options');
  }
  get imageFile(): string {
    return join(this.hostDirectory, 'image');
  }
  get imageVersionFile(): string {
    return join(this.hostDirectory, 'image_version');
  }
  get runCommandFile(): string {
    return join(this.hostDirectory, 'run_command');
  }
  get appsDirectory(): string {
    return join(this.hostDirectory, 'apps-config');
  }
  get appsContainerDirectory(): string {
    return APPS_CONTAINER_DIRECTORY;
  }
  get appsVolume(): Volume {
    return new Volume({ hostPath: this.appsDirectory, containerPath: this.appsContainerDirectory });
  }
  get appDirectory(): string {
    return join(this.appsDirectory, this.config.serviceAndDestination);
  }
  get appContainerDirectory(): string {
    return join(this.appsContainerDirectory, this.config.serviceAndDestination);
  }
  get errorPagesDirectory(): string {
    return join(this.appDirectory, 'error_pages');
  }
  get errorPagesContainerDirectory(): string {
    return join(this.appContainerDirectory, 'error_pages');
  }
  get tlsDirectory(): string {
    return join(this.appDirectory, 'tls');
  }
  get tlsContainerDirectory(): string {
    return join(this.appContainerDirectory, 'tls');
  }
}

/** `proxy/run`: how kamal-proxy itself is run on a host. */
export class ProxyRun {
  readonly config: ProxyConfiguration;
  readonly runConfig: RawObject;
  readonly context: string;

  constructor(config: ProxyConfiguration, opts: { runConfig: RawObject; context?: string }) {
    this.config = config;
    this.runConfig = opts.runConfig ?? {};
    this.context = opts.context ?? 'proxy/run';
  }

  private fetch<T>(key: string, fallback: T): T {
    return key in this.runConfig ? this.runConfig[key] : fallback;
  }

  get debug(): boolean | undefined {
    return this.fetch('debug', undefined);
  }
  get publish(): boolean {
    return this.fetch('publish', true);
  }
  get httpPort(): number | string {
    return this.fetch('http_port', DEFAULT_HTTP_PORT);
  }
  get httpsPort(): number | string {
    return this.fetch('https_port', DEFAULT_HTTPS_PORT);
  }
  get bindIps(): string[] | undefined {
    return this.fetch('bind_ips', undefined) ?? undefined;
  }

  publishArgs(): Word[] | undefined {
    return this.publish ? publishArgsFor(this.httpPort, this.httpsPort, this.bindIps) : undefined;
  }

  get logMaxSize(): string | undefined {
    return this.fetch('log_max_size', DEFAULT_LOG_MAX_SIZE) ?? undefined;
  }

  loggingArgs(): Word[] | undefined {
    return isPresent(this.logMaxSize) ? argumentize('--log-opt', `max-size=${this.logMaxSize}`) : undefined;
  }

  get version(): string {
    return this.fetch('version', PROXY_MINIMUM_VERSION);
  }
  get registry(): string | undefined {
    return this.fetch('registry', undefined) ?? undefined;
  }
  get repository(): string {
    return this.fetch('repository', 'basecamp/kamal-proxy');
  }
  get image(): string {
    return `${[this.registry, this.repository].filter((x) => x !== undefined && x !== null).join('/')}:${this.version}`;
  }
  get containerName(): string {
    return PROXY_CONTAINER_NAME;
  }

  optionsArgs(): Word[] | undefined {
    const args = this.runConfig.options;
    return isPlainObject(args) ? optionize(args) : undefined;
  }

  get metricsPort(): number | string | undefined {
    return this.runConfig.metrics_port ?? undefined;
  }

  runCommandOptions(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    if (this.debug) out.set('debug', true);
    if (this.metricsPort !== undefined) out.set('metrics-port', this.metricsPort);
    return out;
  }

  /** `kamal-proxy run [--debug] [--metrics-port "N"]` as words. */
  runCommand(): Word[] {
    return ['kamal-proxy', 'run', ...optionize(this.runCommandOptions())];
  }

  dockerOptionsArgs(): Word[] {
    return [
      ...this.appsVolumeArgs(),
      ...(this.publishArgs() ?? []),
      ...(this.loggingArgs() ?? []),
      ...(isPresent(this.metricsPort) ? [`--expose=${toS(this.metricsPort)}`] : []),
      ...(this.optionsArgs() ?? []),
    ];
  }

  get hostDirectory(): string {
    return join(this.config.runDirectory, 'proxy');
  }
  get appsDirectory(): string {
    return join(this.hostDirectory, 'apps-config');
  }
  get appsContainerDirectory(): string {
    return APPS_CONTAINER_DIRECTORY;
  }
  get appsVolume(): Volume {
    return new Volume({ hostPath: this.appsDirectory, containerPath: this.appsContainerDirectory });
  }
  appsVolumeArgs(): Word[] {
    return this.appsVolume.dockerArgs();
  }
  get appDirectory(): string {
    return join(this.appsDirectory, this.config.serviceAndDestination);
  }
  get appContainerDirectory(): string {
    return join(this.appsContainerDirectory, this.config.serviceAndDestination);
  }

  equals(other: unknown): boolean {
    return other instanceof ProxyRun && deepEqual(this.runConfig, other.runConfig);
  }
}
