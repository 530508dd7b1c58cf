/**
 * Roles and hosts as Kamal reads them from the raw `servers` (and accessories' `tag`s): used by the
 * validation and by the model, so both see the same hosts.
 */
import { isPlainObject } from './ruby.js';

/** String(v), also for values without a toString (null-prototype objects, or lists holding them). */
export function safeToS(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Kamal::Configuration#role_names: `web` for a plain list of hosts, else the roles sorted by name. */
export function roleNames(servers: unknown): string[] {
  if (Array.isArray(servers)) return ['web'];
  if (isPlainObject(servers)) return Object.keys(servers).sort();
  return [];
}

/** The host entries of a role as written (strings, or `host: tags` hashes). */
export function roleHostList(servers: unknown, name: string): unknown[] {
  if (Array.isArray(servers)) return servers;
  if (!isPlainObject(servers)) return [];
  const role = servers[name];
  if (Array.isArray(role)) return role;
  if (isPlainObject(role)) return Array.isArray(role.hosts) ? role.hosts : role.hosts === undefined || role.hosts === null ? [] : [role.hosts];
  return [];
}

/** Kamal::Configuration::Role#tagged_hosts: host → its tags, in configuration order. */
export function taggedHosts(hostList: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(hostList)) return out;
  for (const h of hostList) {
    if (isPlainObject(h)) {
      const first = Object.entries(h)[0];
      if (!first) continue;
      const [host, tags] = first;
      out.set(host, Array.isArray(tags) ? tags.map((t) => safeToS(t)) : tags === null || tags === undefined ? [] : [safeToS(tags)]);
    } else if (typeof h === 'string') {
      out.set(h, []);
    }
  }
  return out;
}

/** The hosts of role `name`. */
export function roleHosts(servers: unknown, name: string): string[] {
  return [...taggedHosts(roleHostList(servers, name)).keys()];
}

/**
 * Kamal::Configuration::Accessory's hosts for a `tag`: like Kamal, only role host lists written as
 * arrays are searched, and a tag written as a string matches when it contains the wanted tag.
 */
export function hostsWithTag(servers: unknown, tag: unknown): string[] {
  if (!isPlainObject(servers)) return [];
  const wanted = safeToS(tag);
  const out: string[] = [];
  for (const role of Object.values(servers)) {
    if (!Array.isArray(role)) continue;
    for (const h of role) {
      if (!isPlainObject(h)) continue;
      const first = Object.entries(h)[0];
      if (!first) continue;
      const tags = first[1];
      const hit = Array.isArray(tags) ? tags.some((t) => safeToS(t) === wanted) : typeof tags === 'string' && tags.includes(wanted);
      if (hit) out.push(first[0]);
    }
  }
  return out;
}
