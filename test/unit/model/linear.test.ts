// Planning a fleet is linear in its hosts: every host and role lookup the engine makes per host
// reads each host list of the configuration a bounded number of times, however large the fleet.
// Counted structurally (reads of the raw host lists), never timed.
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../../src/model/index.js';
import { Specifics } from '../../../src/engine/specifics.js';
import { MapSecretStore } from '../../../src/secret.js';

/** A list whose element reads are counted. */
function counted<T>(items: T[], counter: { reads: number }): T[] {
  return new Proxy(items, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) counter.reads++;
      return Reflect.get(target, key, receiver);
    },
  });
}

function fleet(hosts: number, counter: { reads: number }): Record<string, unknown> {
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const web = Math.floor(hosts * 0.6);
  const workers = Math.floor(hosts * 0.3);
  const list = (from: number, to: number, tag?: string) =>
    counted(
      Array.from({ length: to - from }, (_, i) => (tag ? { [ip(from + i)]: tag } : ip(from + i))),
      counter,
    );
  return {
    service: 'app',
    image: 'org/app',
    registry: { server: 'registry.example.com', username: 'deploy', password: 'pw' },
    builder: { arch: 'amd64' },
    proxy: { app_port: 3000 },
    env: { clear: { A: '1' }, tags: { batch: { QUEUE: 'batch' } } },
    servers: {
      web: { hosts: list(0, web) },
      workers: { cmd: 'bin/jobs', hosts: list(web, web + workers) },
      jobs: list(web + workers, hosts, 'batch'),
    },
    accessories: { redis: { image: 'redis:7', tag: 'batch', port: 6379 } },
  };
}

/** Reads of the raw host lists while building the configuration and looking up every host the way a deploy does. */
function readsFor(hosts: number): number {
  const counter = { reads: 0 };
  const config = new Configuration(fleet(hosts, counter), { version: 'v1', localArch: 'amd64', secrets: new MapSecretStore({}) });
  const specifics = new Specifics(config, undefined, undefined);
  let seen = 0;
  for (const host of specifics.hosts) {
    seen += specifics.rolesOn(host).length + config.hostRoles(host).length + config.hostAccessories(host).length;
    seen += specifics.appHosts.length > 0 && specifics.proxyHosts.length > 0 ? 1 : 0;
    for (const role of config.roles) if (role.hasHost(host)) seen += role.hosts.length > 0 ? 1 : 0;
    config.proxyRun(host);
  }
  expect(seen).toBeGreaterThanOrEqual(hosts);
  expect(config.allHosts).toHaveLength(hosts);
  return counter.reads;
}

describe('host and role lookups over a fleet', () => {
  it('read each host list a bounded number of times: twice the hosts, at most about twice the reads', () => {
    const small = readsFor(500);
    const large = readsFor(1000);
    expect(small).toBeGreaterThan(500);
    // quadratic lookups (rescanning a role's hosts for each host) would make this about 4x
    expect(large / small).toBeLessThan(2.2);
  });

  it('read each host of a large fleet at most a few times', () => {
    expect(readsFor(5000) / 5000).toBeLessThan(12);
  });
});
