// Real-world shaped ERB in config/deploy*.yml, loaded end to end (files, destination, ERB, YAML) as
// Kamal::Configuration.load_raw_config does, with Ruby on the PATH and without it. Each template
// is the shape of a form found in Kamal's docs or in public deploy.yml files.
//
// Ruby must be on the PATH for these tests (.ci/run installs Debian's ruby and ruby-dotenv).
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { loadRawConfig } from '../../../src/config/load.js';
import { findRuby } from '../../../src/config/ruby-erb.js';
import { configError, project, removeProjects } from './helpers.js';

afterAll(removeProjects);

const RUBY = findRuby({ PATH: process.env.PATH });
if (!RUBY) throw new Error('these tests need ruby on the PATH (apt-get install ruby ruby-dotenv)');

const NEEDS_RUBY =
  "needs Ruby: Kamal evaluates ERB with Ruby, and ruby is not on the PATH. Install Ruby (GitHub's Ubuntu runners have it) or keep to the forms evaluated without it: ENV[...], ENV.fetch, %x(...), backticks, .strip/.chomp, ||, ==, if/unless/else";

/**
 * A PATH holding the tools the templates run (and a stand-in `aws`), with or without ruby.
 */
function toolPath(withRuby: boolean): string {
  const bin = join(project(), 'bin');
  mkdirSync(bin);
  for (const tool of ['cat', 'git', 'printf', 'echo', 'tr', ...(withRuby ? ['ruby'] : [])]) {
    const found = execFileSync('/bin/sh', ['-c', `command -v ${tool}`])
      .toString()
      .trim();
    symlinkSync(found, join(bin, tool));
  }
  writeFileSync(join(bin, 'aws'), '#!/bin/sh\n[ "$*" = "ecr get-login-password --region eu-west-1" ] && echo "ecr-token-$AWS_PROFILE"\n');
  chmodSync(join(bin, 'aws'), 0o755);
  return bin;
}

const WITH_RUBY = toolPath(true);
const WITHOUT_RUBY = toolPath(false);

const BASE = 'service: app\nimage: acme/app\n';

interface Case {
  name: string;
  files: Record<string, string>;
  destination?: string;
  env?: Record<string, string>;
  /** The loaded configuration, minus `service` and `image`. */
  config: Record<string, unknown>;
  /** Without Ruby: the same configuration (undefined), or the error message. */
  withoutRuby?: string;
}

const CASES: Case[] = [
  {
    name: "ECR login from Kamal's registry docs: <%= %x(aws ecr get-login-password) %>",
    files: {
      'config/deploy.yml': `${BASE}registry:\n  server: 1234.dkr.ecr.eu-west-1.amazonaws.com\n  username: AWS\n  password: <%= %x(aws ecr get-login-password --region eu-west-1) %>\n`,
    },
    env: { AWS_PROFILE: 'deploy' },
    config: { registry: { server: '1234.dkr.ecr.eu-west-1.amazonaws.com', username: 'AWS', password: 'ecr-token-deploy' } },
  },
  {
    name: 'an accessory only when a variable is "1": <% if ENV["X"] == "1" %>',
    files: {
      'config/deploy.yml': `${BASE}servers:\n  - 10.0.0.1\n<% if ENV["WITH_REDIS"] == "1" %>\naccessories:\n  redis:\n    image: redis:7\n    host: 10.0.0.2\n<% end %>\nbuilder:\n  arch: amd64\n`,
    },
    env: { WITH_REDIS: '1' },
    config: { servers: ['10.0.0.1'], accessories: { redis: { image: 'redis:7', host: '10.0.0.2' } }, builder: { arch: 'amd64' } },
  },
  {
    name: 'the same, variable unset',
    files: {
      'config/deploy.yml': `${BASE}servers:\n  - 10.0.0.1\n<% if ENV["WITH_REDIS"] == "1" %>\naccessories:\n  redis:\n    image: redis:7\n    host: 10.0.0.2\n<% end %>\nbuilder:\n  arch: amd64\n`,
    },
    config: { servers: ['10.0.0.1'], builder: { arch: 'amd64' } },
  },
  {
    name: 'per destination, from KAMAL_DESTINATION: <%- if ENV["KAMAL_DESTINATION"] == "staging" -%>',
    files: {
      'config/deploy.yml': `${BASE}proxy:\n<%- if ENV["KAMAL_DESTINATION"] == "staging" -%>\n  host: staging.example.com\n<%- else -%>\n  host: example.com\n<%- end -%>\n  ssl: true\n`,
      'config/deploy.staging.yml': 'servers:\n  - 10.0.1.1\n',
    },
    destination: 'staging',
    config: { proxy: { host: 'staging.example.com', ssl: true }, servers: ['10.0.1.1'] },
  },
  {
    name: 'the git commit as a label: <%= `git rev-parse --short HEAD`.strip %>',
    files: { 'config/deploy.yml': `${BASE}labels:\n  revision: <%= \`git rev-parse --short HEAD 2>/dev/null || echo none\`.strip %>\n` },
    config: { labels: { revision: 'none' } },
  },
  {
    name: 'defaults with || and ENV.fetch: <%= ENV["RAILS_ENV"] || "production" %>',
    files: {
      'config/deploy.yml': `${BASE}env:\n  clear:\n    RAILS_ENV: <%= ENV["RAILS_ENV"] || "production" %>\n    WEB_CONCURRENCY: <%= ENV.fetch("WEB_CONCURRENCY", 2) %>\n    LOG: "<%= ENV.fetch("LOG_LEVEL") { "info" }.strip %>"\n`,
    },
    config: { env: { clear: { RAILS_ENV: 'production', WEB_CONCURRENCY: 2, LOG: 'info' } } },
  },
  {
    name: 'the Ruby version for the build: <%= File.read(".ruby-version").strip %>',
    files: {
      'config/deploy.yml': `${BASE}builder:\n  arch: amd64\n  args:\n    RUBY_VERSION: <%= File.read(".ruby-version").strip %>\n`,
      '.ruby-version': '3.4.1\n',
    },
    config: { builder: { arch: 'amd64', args: { RUBY_VERSION: '3.4.1' } } },
    withoutRuby: `config/deploy.yml:6: <%= File.read(".ruby-version").strip %> ${NEEDS_RUBY}`,
  },
  {
    name: '.env loaded at the top, as Kamal 2 upgrades keep it: <% require "dotenv"; Dotenv.load(".env") %>',
    files: {
      'config/deploy.yml': `<% require "dotenv"; Dotenv.load(".env") %>\n${BASE}servers:\n  - <%= ENV["WEB_HOST"] %>\n`,
      'config/deploy.production.yml': 'proxy:\n  host: <%= ENV.fetch("APP_HOST") %>\n',
      '.env': 'WEB_HOST=10.0.0.9\nAPP_HOST=app.example.com\n',
    },
    destination: 'production',
    config: { servers: ['10.0.0.9'], proxy: { host: 'app.example.com' } },
    withoutRuby: `config/deploy.yml:1: <% require "dotenv"; Dotenv.load(".env") %> ${NEEDS_RUBY}`,
  },
  {
    name: 'a local variable: <% host = ENV["H"] %>...<%= host %>',
    files: {
      'config/deploy.yml': `<% host = ENV.fetch("DEPLOY_HOST", "10.0.0.5") %>\n${BASE}servers:\n  web:\n    - <%= host %>\n  jobs:\n    hosts:\n      - <%= host %>\n    cmd: bin/jobs\n`,
    },
    config: { servers: { web: ['10.0.0.5'], jobs: { hosts: ['10.0.0.5'], cmd: 'bin/jobs' } } },
    withoutRuby: `config/deploy.yml:1: <% host = ENV.fetch("DEPLOY_HOST", "10.0.0.5") %> ${NEEDS_RUBY}`,
  },
  {
    name: 'string interpolation: <%= "#{ENV["APP"]}-db" %>',
    files: { 'config/deploy.yml': `${BASE}accessories:\n  db:\n    image: postgres:16\n    host: <%= "#{ENV.fetch("APP", "acme")}-db.internal" %>\n` },
    config: { accessories: { db: { image: 'postgres:16', host: 'acme-db.internal' } } },
    withoutRuby: `config/deploy.yml:6: <%= "#{ENV.fetch("APP", "acme")}-db.internal" %> ${NEEDS_RUBY}`,
  },
  {
    name: 'hosts from a comma-separated variable: <%= ENV["HOSTS"].split(",") %>',
    files: { 'config/deploy.yml': `${BASE}servers: <%= ENV.fetch("HOSTS").split(",") %>\n` },
    env: { HOSTS: '10.0.0.1,10.0.0.2' },
    config: { servers: ['10.0.0.1', '10.0.0.2'] },
    withoutRuby: `config/deploy.yml:3: <%= ENV.fetch("HOSTS").split(",") %> ${NEEDS_RUBY}`,
  },
  {
    name: 'a loop over hosts: <% ENV["HOSTS"].split(",").each do |h| %>',
    files: { 'config/deploy.yml': `${BASE}servers:\n<% ENV.fetch("HOSTS").split(",").each do |host| -%>\n  - <%= host %>\n<% end -%>\n` },
    env: { HOSTS: '10.0.0.1,10.0.0.2' },
    config: { servers: ['10.0.0.1', '10.0.0.2'] },
    withoutRuby: `config/deploy.yml:4: <% ENV.fetch("HOSTS").split(",").each do |host| -%> ${NEEDS_RUBY}`,
  },
  {
    name: 'ERB inside a YAML comment is evaluated too (Kamal renders the whole file)',
    files: { 'config/deploy.yml': `${BASE}# registry password was: <%= ENV["OLD_PASSWORD"].to_s.length %> characters\nservers: [10.0.0.1]\n` },
    config: { servers: ['10.0.0.1'] },
    withoutRuby: `config/deploy.yml:3: <%= ENV["OLD_PASSWORD"].to_s.length %> ${NEEDS_RUBY}`,
  },
];

function load(c: Case, path: string): Record<string, unknown> {
  const cwd = project(c.files);
  const raw = loadRawConfig({ cwd, destination: c.destination, env: { PATH: path, ...c.env } });
  const { service, image, ...rest } = raw;
  expect([service, image]).toEqual(['app', 'acme/app']);
  return rest;
}

describe('real-world ERB: with Ruby on the PATH', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    expect(load(c, WITH_RUBY)).toEqual(c.config);
  });
});

describe('real-world ERB: without Ruby', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    if (c.withoutRuby === undefined) expect(load(c, WITHOUT_RUBY)).toEqual(c.config);
    else expect(configError(() => load(c, WITHOUT_RUBY)).message).toBe(c.withoutRuby);
  });
});

describe('real-world ERB: what the templates leave behind', () => {
  it('variables Dotenv.load set stay set for the rest of the run (secrets files, commands), as in Kamal', () => {
    const cwd = project({
      'config/deploy.yml': `<% require "dotenv"; Dotenv.load %>\n${BASE}`,
      '.env': 'REGISTRY_TOKEN=from-dotenv\nKEPT=from-dotenv\n',
    });
    const env: Record<string, string | undefined> = { PATH: WITH_RUBY, KEPT: 'from-the-run' };
    loadRawConfig({ cwd, env });
    expect(env).toEqual({ PATH: WITH_RUBY, KEPT: 'from-the-run', REGISTRY_TOKEN: 'from-dotenv' });
  });

  it('.kamal/secrets sees what Dotenv.load set in deploy.yml', async () => {
    const cwd = project({
      'config/deploy.yml': `<% require "dotenv"; Dotenv.load %>\n${BASE}servers: [10.0.0.1]\nregistry:\n  username: u\n  password: [REGISTRY_TOKEN]\nbuilder:\n  arch: amd64\n`,
      '.env': 'TOKEN_FROM_DOTENV=tok-123\n',
      '.kamal/secrets': 'REGISTRY_TOKEN=$TOKEN_FROM_DOTENV\n',
    });
    const { secrets } = await loadConfig({ cwd, env: { PATH: WITH_RUBY } });
    expect(secrets.load().get('REGISTRY_TOKEN')?.reveal()).toBe('tok-123');
  });

  it('KAMAL_DESTINATION is not left in the environment of the run', () => {
    const cwd = project({ 'config/deploy.yml': `${BASE}x: <%= File.basename(ENV["KAMAL_DESTINATION"]) %>\n`, 'config/deploy.staging.yml': 'y: 1\n' });
    const env: Record<string, string | undefined> = { PATH: WITH_RUBY };
    expect(loadRawConfig({ cwd, env, destination: 'staging' })).toEqual({ service: 'app', image: 'acme/app', x: 'staging', y: 1 });
    expect(env).toEqual({ PATH: WITH_RUBY });
  });

  it('a Ruby error in the destination file names that file and line', () => {
    const cwd = project({ 'config/deploy.yml': BASE, 'config/deploy.staging.yml': 'a: 1\nservers: <%= ENV.fetch("STAGING_HOSTS").split(",") %>\n' });
    expect(configError(() => loadRawConfig({ cwd, env: { PATH: WITH_RUBY }, destination: 'staging' })).message).toBe(
      'config/deploy.staging.yml:2: key not found: "STAGING_HOSTS"',
    );
  });
});
