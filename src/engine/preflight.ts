/**
 * Checks made before a deploy touches anything, local or remote: the
 * version to deploy and every secret the run will read. Kamal looks each
 * one up when first needed, so a missing one fails half way (after the
 * build, with the lock taken); here the same message comes first, listing
 * every secret that is missing at once.
 */
import { ConfigError } from '../errors.js';
import type { Kamal } from './kamal.js';

export interface PreflightOptions {
  /** The image is built here (builder secrets are needed). */
  build?: boolean;
  /** The app is booted (registry, role env and TLS secrets are needed). Default true. */
  app?: boolean;
  /** Accessories booted too (their env secrets are needed): all of them, or these. */
  accessories?: boolean | readonly string[];
  /** The version comes from the configuration (--version, VERSION or the git commit). */
  version?: boolean;
}

export function preflight(kamal: Kamal, opts: PreflightOptions = {}): void {
  // --version, VERSION or the git commit: Kamal's "Can't use commit hash as version" comes before any command
  if (opts.version) void kamal.config.version;

  const store = kamal.config.secrets;
  const missing = new Set<string>();
  const need = (names: readonly (string | undefined)[]): void => {
    for (const name of names) {
      if (name !== undefined && store.get(name) === undefined) missing.add(store.missing?.(name) ?? `Secret '${name}' not found`);
    }
  };
  const secretName = (v: unknown): string | undefined => (Array.isArray(v) ? String(v[0]) : undefined);

  if (opts.app !== false) {
    const registry = kamal.config.registry.registryConfig;
    need([secretName(registry.username), secretName(registry.password)]);
    if (opts.build) need(kamal.config.builder.secretNames);
    for (const host of kamal.appHosts) {
      for (const role of kamal.rolesOn(host)) {
        need(role.env(host).secretNames());
        if (role.runningProxy && role.proxy?.customSslCertificate) need([role.proxy.certificatePemName, role.proxy.privateKeyPemName]);
      }
    }
  }
  const wanted = opts.accessories;
  for (const accessory of kamal.config.accessories) {
    if (wanted === true || (Array.isArray(wanted) && wanted.includes(accessory.name))) need(accessory.env.secretNames());
  }

  if (missing.size > 0) throw new ConfigError([...missing].join('\n'));
}
