/** Host and role selection from -h/--hosts, -r/--roles and --primary (Kamal::Commander::Specifics). */
import type { Configuration, Role } from '../model/index.js';

export { filterSpecificItems } from '../model/utils.js';

function stableSort<T>(items: T[], key: (t: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => key(a.item) - key(b.item) || a.index - b.index)
    .map((x) => x.item);
}

/** The selection of hosts and roles a command runs on. Built once per selection; every lookup is a set or map read. */
export class Specifics {
  roles: Role[];
  readonly hosts: string[];
  readonly primaryHost: string | undefined;
  readonly primaryRole: Role | undefined;
  readonly #hostSet: Set<string>;
  readonly #rolesOn = new Map<string, Role[]>();
  #appHosts: string[] | undefined;
  #proxyHosts: string[] | undefined;
  #accessoryHosts: string[] | undefined;

  constructor(
    private readonly config: Configuration,
    specificHosts: string[] | undefined,
    specificRoles: Role[] | undefined,
  ) {
    const allHosts = specificHosts ?? config.allHosts;
    const allHostSet = new Set(allHosts);
    const roles = (specificRoles ?? config.roles).filter((role) => role.hosts.some((h) => allHostSet.has(h)));
    let hosts = [...allHosts];
    const roleHosts = specificRoles ? new Set(specificRoles.flatMap((r) => r.hosts)) : undefined;
    if (roleHosts && roleHosts.size > 0) hosts = hosts.filter((h) => roleHosts.has(h));
    this.roles = roles;
    const primarySpecificRole = specificRoles && specificRoles.length > 0 ? this.primaryOrFirst(specificRoles) : undefined;
    this.primaryHost = specificHosts?.[0] ?? primarySpecificRole?.primaryHost ?? config.primaryHost;
    this.primaryRole = this.primaryOrFirst(this.primaryHost ? this.rolesOn(this.primaryHost) : []);
    this.roles = stableSort(roles, (r) => (r === this.primaryRole ? 0 : 1));
    this.#rolesOn.clear(); // the roles' order changed
    this.hosts = this.sortPrimaryRoleHostsFirst(hosts);
    this.#hostSet = new Set(this.hosts);
  }

  /** The selected roles with a container on `host`, in the selection's order. */
  rolesOn(host: string): Role[] {
    let roles = this.#rolesOn.get(host);
    if (!roles) {
      roles = this.roles.filter((role) => role.hasHost(host));
      this.#rolesOn.set(host, roles);
    }
    return roles;
  }

  get appHosts(): string[] {
    return (this.#appHosts ??= this.sortPrimaryRoleHostsFirst(this.config.appHosts.filter((h) => this.#hostSet.has(h))));
  }

  get proxyHosts(): string[] {
    return (this.#proxyHosts ??= this.config.proxyHosts.filter((h) => this.#hostSet.has(h)));
  }

  get accessoryHosts(): string[] {
    this.#accessoryHosts ??= [...new Set(this.config.accessories.flatMap((a) => a.hosts))].filter((h) => this.#hostSet.has(h));
    return this.#accessoryHosts;
  }

  private primaryOrFirst(roles: Role[]): Role | undefined {
    return roles.find((r) => r.name === this.config.primaryRole?.name) ?? roles[0];
  }

  private sortPrimaryRoleHostsFirst(hosts: string[]): string[] {
    const primary = this.primaryRole && this.roles.includes(this.primaryRole) ? this.primaryRole : undefined;
    return stableSort(hosts, (h) => (primary?.hasHost(h) ? 0 : 1));
  }
}
