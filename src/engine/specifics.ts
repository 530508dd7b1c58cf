/** Host and role selection from -h/--hosts, -r/--roles and --primary (Kamal::Commander::Specifics). */
import type { Configuration, Role } from '../model/index.js';

/** fnmatch-style filter: `*` and `?` wildcards and `{a,b}` alternatives; keeps the order of `items`' matches per filter, unique. */
export function filterSpecificItems(filters: readonly string[], items: readonly string[]): string[] {
  const matches: string[] = [];
  for (const filter of filters) {
    const re = globToRegExp(filter);
    for (const item of items) if (re.test(item) && !matches.includes(item)) matches.push(item);
  }
  return matches;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  let inBraces = false;
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '{') {
      re += '(?:';
      inBraces = true;
    } else if (ch === '}' && inBraces) {
      re += ')';
      inBraces = false;
    } else if (ch === ',' && inBraces) re += '|';
    else re += ch.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function stableSort<T>(items: T[], key: (t: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => key(a.item) - key(b.item) || a.index - b.index)
    .map((x) => x.item);
}

export class Specifics {
  roles: Role[];
  readonly hosts: string[];
  readonly primaryHost: string | undefined;
  readonly primaryRole: Role | undefined;

  constructor(
    private readonly config: Configuration,
    private readonly specificHosts: string[] | undefined,
    private readonly specificRoles: Role[] | undefined,
  ) {
    const allHosts = specificHosts ?? config.allHosts;
    const roles = (specificRoles ?? config.roles).filter((role) => role.hosts.some((h) => allHosts.includes(h)));
    let hosts = [...allHosts];
    const roleHosts = specificRoles?.flatMap((r) => r.hosts);
    if (roleHosts && roleHosts.length > 0) hosts = hosts.filter((h) => roleHosts.includes(h));
    this.roles = roles;
    const primarySpecificRole = specificRoles && specificRoles.length > 0 ? this.primaryOrFirst(specificRoles) : undefined;
    this.primaryHost = specificHosts?.[0] ?? primarySpecificRole?.primaryHost ?? config.primaryHost;
    this.primaryRole = this.primaryOrFirst(this.primaryHost ? this.rolesOn(this.primaryHost) : []);
    this.roles = stableSort(roles, (r) => (r === this.primaryRole ? 0 : 1));
    this.hosts = this.sortPrimaryRoleHostsFirst(hosts);
  }

  rolesOn(host: string): Role[] {
    return this.roles.filter((role) => role.hosts.includes(host));
  }

  get appHosts(): string[] {
    return this.sortPrimaryRoleHostsFirst(this.config.appHosts.filter((h) => this.hosts.includes(h)));
  }

  get proxyHosts(): string[] {
    return this.config.proxyHosts.filter((h) => this.hosts.includes(h));
  }

  get accessoryHosts(): string[] {
    const hosts = this.config.accessories.flatMap((a) => a.hosts);
    return [...new Set(hosts)].filter((h) => this.hosts.includes(h));
  }

  private primaryOrFirst(roles: Role[]): Role | undefined {
    return roles.find((r) => r.name === this.config.primaryRole?.name) ?? roles[0];
  }

  private sortPrimaryRoleHostsFirst(hosts: string[]): string[] {
    return stableSort(hosts, (h) => (this.rolesOn(h).some((r) => r === this.primaryRole) ? 0 : 1));
  }
}
