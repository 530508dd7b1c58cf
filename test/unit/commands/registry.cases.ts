// Ported from Kamal's test/commands/registry_test.rb (v2.12.0).
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Registry } from '../../../src/commands/index.js';
import { Configuration, type Registry as RegistryConfig } from '../../../src/model/index.js';
import { MapSecretStore } from '../../../src/secret.js';
import type { KamalCase } from './parity.js';

type Raw = Record<string, any>;

const base = (): Raw => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret', server: 'hub.docker.com' },
  builder: { arch: 'amd64' },
  servers: ['1.1.1.1'],
  accessories: {
    db: { image: 'mysql:8.0', hosts: ['1.1.1.1'], registry: { username: 'user', password: 'pw', server: 'other.hub.docker.com' } },
  },
});

const ENV_SECRETS = { KAMAL_REGISTRY_PASSWORD: 'more-secret', KAMAL_MYSQL_REGISTRY_PASSWORD: 'secret-pw' };

function withEnvPasswords(c: Raw): void {
  c.registry.password = ['KAMAL_REGISTRY_PASSWORD'];
  c.accessories.db.registry.password = ['KAMAL_MYSQL_REGISTRY_PASSWORD'];
}

function mainConfig(change?: (c: Raw) => void, secrets: Record<string, string> = ENV_SECRETS): Configuration {
  const raw = base();
  change?.(raw);
  return new Configuration(raw, { secrets: new MapSecretStore(secrets) });
}

function registry(change?: (c: Raw) => void, secrets?: Record<string, string>): Registry {
  return new Registry(mainConfig(change, secrets));
}

function accessoryRegistryConfig(change?: (c: Raw) => void): RegistryConfig {
  return mainConfig(change).accessory('db')!.registry!;
}

export const registryCases: KamalCase[] = [
  { test: 'registry login', run: () => registry().login(), expected: 'docker login hub.docker.com -u "dhh" --password-stdin' },
  {
    test: 'given registry login',
    run: () => registry().login(accessoryRegistryConfig()),
    expected: 'docker login other.hub.docker.com -u "user" --password-stdin',
  },
  {
    test: 'registry login with ENV password',
    run: () => registry(withEnvPasswords).login(),
    expected: 'docker login hub.docker.com -u "dhh" --password-stdin',
  },
  {
    test: 'registry login with ENV password',
    run: () => registry(withEnvPasswords).login(accessoryRegistryConfig(withEnvPasswords)),
    expected: 'docker login other.hub.docker.com -u "user" --password-stdin',
  },
  {
    test: 'registry login escape password',
    run: () =>
      registry(
        (c) => {
          c.registry.password = ['KAMAL_REGISTRY_PASSWORD'];
        },
        { KAMAL_REGISTRY_PASSWORD: `more-secret'"` },
      ).login(),
    expected: 'docker login hub.docker.com -u "dhh" --password-stdin',
  },
  {
    test: 'registry login with ENV username',
    run: () =>
      registry(
        (c) => {
          c.registry.username = ['KAMAL_REGISTRY_USERNAME'];
        },
        { KAMAL_REGISTRY_USERNAME: 'also-secret' },
      ).login(),
    expected: 'docker login hub.docker.com -u "also-secret" --password-stdin',
    words: true,
  },
  { test: 'registry logout', run: () => registry().logout(), expected: 'docker logout hub.docker.com' },
  { test: 'given registry logout', run: () => registry().logout(accessoryRegistryConfig()), expected: 'docker logout other.hub.docker.com' },
  {
    test: 'registry setup',
    run: () =>
      registry((c) => {
        c.registry = { server: 'localhost:5000' };
      }).setup(),
    expected: 'docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3',
  },
  { test: 'registry remove', run: () => registry().remove(), expected: 'docker stop kamal-docker-registry && docker rm kamal-docker-registry' },
];
