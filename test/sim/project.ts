/**
 * A project folder (config/deploy.yml, .kamal/secrets, a git repository) that deploys to a
 * simulated fleet, for our engine and for Kamal alike: SSH as root with the fleet's client key
 * only, host keys checked against the fleet's known_hosts through an ssh config file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from './host.js';

export const SIM_REGISTRY = 'registry.sim:5000';
export const SIM_IMAGE = 'sim/app';
export const SIM_SECRETS = { KAMAL_REGISTRY_PASSWORD: 'sim-registry-pw', DB_PASSWORD: 'sim-db-pw' };
export const PROXY_IMAGE = 'basecamp/kamal-proxy:v0.9.2';

/** The registry the fleet pulls from: versions of the app image (labelled service=app) and kamal-proxy. */
export function simRegistry(versions: string[] = ['v1', 'v2', 'v3']): Registry {
  const images = new Map<string, { labels: Record<string, string> }>();
  for (const v of versions) images.set(`${SIM_REGISTRY}/${SIM_IMAGE}:${v}`, { labels: { service: 'app' } });
  images.set(PROXY_IMAGE, { labels: {} });
  return { images, credentials: new Map([[SIM_REGISTRY, ['sim', SIM_SECRETS.KAMAL_REGISTRY_PASSWORD]]]) };
}

export interface SimProjectOptions {
  hosts: string[];
  keyFile: string;
  knownHostsFile: string;
  /** Extra top-level YAML (e.g. `boot:` or `sshkit:` sections). */
  extra?: string;
}

export function writeSimProject(dir: string, o: SimProjectOptions): string {
  mkdirSync(join(dir, 'config'), { recursive: true });
  mkdirSync(join(dir, '.kamal'), { recursive: true });
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(sshConfig, `Host 127.*\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ${o.knownHostsFile}\n`);
  writeFileSync(
    join(dir, 'config/deploy.yml'),
    [
      'service: app',
      `image: ${SIM_IMAGE}`,
      'servers:',
      '  web:',
      ...o.hosts.map((h) => `    - ${h}`),
      'registry:',
      `  server: ${SIM_REGISTRY}`,
      '  username: sim',
      '  password:',
      '    - KAMAL_REGISTRY_PASSWORD',
      'env:',
      '  clear:',
      '    MODE: sim',
      '  secret:',
      '    - DB_PASSWORD',
      'proxy:',
      '  host: app.sim.test',
      '  app_port: 80',
      'ssh:',
      '  user: root',
      '  keys_only: true',
      `  keys: [${o.keyFile}]`,
      `  config: ${sshConfig}`,
      'builder:',
      '  arch: amd64',
      'readiness_delay: 0',
      o.extra ?? '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, '.kamal/secrets'),
    Object.entries(SIM_SECRETS)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  const git = (...args: string[]): void => {
    execFileSync('git', args, {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Sim', GIT_AUTHOR_EMAIL: 'sim@example.test', GIT_COMMITTER_NAME: 'Sim', GIT_COMMITTER_EMAIL: 'sim@example.test' },
    });
  };
  git('init', '-q');
  git('config', 'user.name', 'Sim');
  git('config', 'user.email', 'sim@example.test');
  git('add', '-A');
  git('commit', '-qm', 'sim project');
  return dir;
}
