/** Commands that only read or write local files: config, secrets print, init. */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isAlias, isMap, isScalar, parseDocument, Scalar, type Document } from 'yaml';
import type { Kamal } from '../engine/kamal.js';
import { REDACTED, Secret } from '../secret.js';
import { isPresent, kamalEscapeShellValue } from '../model/utils.js';
import { RubyFloat, RubyObject, RubySymbol, toRubyYaml } from './ruby-yaml.js';
import { destinationConfigFile } from '../config/load.js';
import { tokenize } from '../config/yaml.js';

const sym = (name: string): RubySymbol => new RubySymbol(name);

type Path = ReadonlyArray<string | number>;
/** What Ruby loaded a plain scalar as, where that is not what our config model keeps (a string). */
type ScalarType = 'float' | 'symbol';

/** Psych's float and symbol scalars (ScalarScanner#tokenize), written plain. */
function plainScalarType(source: string): ScalarType | undefined {
  if (/^:./.test(source)) return 'symbol';
  if (/^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(source)) return 'float';
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$/.test(source)) return 'float';
  if (/^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$/.test(source) && !/^[-+]?\.$/.test(source)) return 'float';
  return undefined;
}

/** What the config files say of a value that the loaded configuration does not keep. */
interface Source {
  /** A float or symbol written plain at this path. */
  type(path: Path): ScalarType | undefined;
  /** The keys of the mapping at this path in the order Ruby keeps them (base file, then the destination's new keys). */
  keyOrder(path: Path): string[] | undefined;
  /** Keys of that mapping written as plain integers or booleans (Ruby keeps them as such, `7:`, `true:`). */
  typedKeys(path: Path): Map<string, number | boolean>;
}

/**
 * The loaded configuration keeps floats and symbols as strings, and puts keys that are whole
 * numbers first (JavaScript objects); Kamal's `config` prints them as Ruby has them (`3.4`,
 * `:debug`, keys in file order). The files are read again, as YAML only, to find those; files with
 * ERB are left out (their text depends on the render).
 */
function configSource(k: Kamal): Source {
  const configFile = k.options.configFile ?? 'config/deploy.yml';
  const files = [configFile, ...(k.options.destination ? [destinationConfigFile(configFile, k.options.destination)] : [])];
  /** Base file first. */
  const docs: Document[] = [];
  for (const file of files) {
    try {
      const text = readFileSync(resolve(k.cwd, file), 'utf8');
      if (!text.includes('<%')) docs.push(parseDocument(text, { schema: 'failsafe', uniqueKeys: false }));
    } catch {
      // unreadable here: the values print as the model holds them
    }
  }
  const nodeAt = (doc: Document, path: Path): unknown => {
    const node = doc.getIn(path, true) as unknown;
    return isAlias(node) ? node.resolve(doc) : node;
  };
  return {
    type(path) {
      for (const doc of [...docs].reverse()) {
        const node = nodeAt(doc, path);
        if (node === undefined) continue;
        if (!isScalar(node) || node.type !== Scalar.PLAIN || node.tag) return undefined;
        return plainScalarType(String(node.source ?? node.value));
      }
      return undefined;
    },
    keyOrder(path) {
      const order: string[] = [];
      for (const doc of docs) {
        const node = nodeAt(doc, path);
        if (!isMap(node)) continue;
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
          if (key !== undefined && !order.includes(key)) order.push(key);
        }
      }
      return order.length > 0 ? order : undefined;
    },
    typedKeys(path) {
      const out = new Map<string, number | boolean>();
      for (const doc of docs) {
        const node = nodeAt(doc, path);
        if (!isMap(node)) continue;
        for (const pair of node.items) {
          if (!isScalar(pair.key) || pair.key.type !== Scalar.PLAIN || pair.key.tag) continue;
          const text = String(pair.key.source ?? pair.key.value);
          const loaded = tokenize(text);
          if (typeof loaded === 'number' || typeof loaded === 'boolean') out.set(String(loaded), loaded);
        }
      }
      return out;
    },
  };
}

/** Keys JavaScript objects put first (array indexes). */
const INDEX_KEY = /^(0|[1-9]\d*)$/;

/** An object's entries in the order Ruby's Hash has them. */
function rubyEntries(value: Record<string, unknown>, path: Path, source?: Source): Array<[string, unknown]> {
  const entries = Object.entries(value);
  if (!source || !entries.some(([key]) => INDEX_KEY.test(key))) return entries;
  const order = source.keyOrder(path);
  if (!order) return entries;
  const rank = (key: string) => {
    const i = order.indexOf(key);
    return i < 0 ? order.length : i;
  };
  return entries
    .map((e, i) => [e, i] as const)
    .sort((a, b) => rank(a[0][0]) - rank(b[0][0]) || a[1] - b[1])
    .map(([e]) => e);
}

/** Raw configuration values as Kamal's `Utils.redacted` leaves them (secrets shown as [REDACTED]), with Ruby's floats, symbols and key order. */
function plain(value: unknown, path: Path = [], source?: Source): unknown {
  if (value instanceof Secret) return REDACTED;
  if (value instanceof Map) return new Map([...value.entries()].map(([k, v]) => [k, plain(v, [...path, k], source)]));
  if (Array.isArray(value)) return value.map((v, i) => plain(v, [...path, i], source));
  if (value && typeof value === 'object') {
    const typed = source?.typedKeys(path);
    return new Map(rubyEntries(value as Record<string, unknown>, path, source).map(([k, v]) => [typed?.get(k) ?? k, plain(v, [...path, k], source)]));
  }
  if (typeof value === 'string' && source && path.length > 0) {
    const type = source.type(path);
    // Psych writes Float::INFINITY and NaN as .inf, -.inf and .nan (Float#to_s says Infinity)
    if (type === 'float') return new RubyFloat({ Infinity: '.inf', '-Infinity': '-.inf', NaN: '.nan' }[value] ?? value);
    if (type === 'symbol') return new RubySymbol(value);
  }
  return value;
}

/** Ruby's `value.to_s` for the scalars a config holds. */
function rubyToS(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return `[${value.map((v) => (typeof v === 'string' ? JSON.stringify(v) : v === null ? 'nil' : String(v))).join(', ')}]`;
  return String(value);
}

/** Kamal's Utils.argumentize as the text it returns (values escaped with escape_shell_value). */
function argumentizeText(argument: string, attributes: Record<string, unknown> | string[]): string[] {
  if (Array.isArray(attributes)) return attributes.flatMap((key) => [argument, rubyToS(key)]);
  return Object.entries(attributes).flatMap(([key, value]) => {
    if (isPresent(value)) return [argument, `${key}=${kamalEscapeShellValue(rubyToS(value))}`];
    if (value === false) return [argument, `${key}=false`];
    return [argument, key];
  });
}

/** Kamal's Configuration::Logging#args as text. */
function loggingArgsText(k: Kamal): string[] {
  const { driver, options } = k.config.logging as { driver: unknown; options: unknown };
  if (isPresent(driver) || isPresent(options)) {
    const driverArgs =
      driver === undefined || driver === null ? [] : driver === true ? ['--log-driver'] : ['--log-driver', kamalEscapeShellValue(rubyToS(driver))];
    return [...driverArgs, ...argumentizeText('--log-opt', options as Record<string, unknown>)];
  }
  return argumentizeText('--log-opt', { 'max-size': '10m' });
}

/** Kamal's Configuration::Ssh#to_h: Net::SSH options without the logger, plus the log level. */
function sshOptions(k: Kamal, types: Source): Map<RubySymbol, unknown> {
  const ssh = k.config.ssh;
  const raw = ssh.sshConfig;
  const out = new Map<RubySymbol, unknown>();
  const set = (key: string, value: unknown) => {
    if (value !== undefined && value !== null) out.set(sym(key), value);
  };
  set('user', ssh.user);
  set('port', ssh.port);
  const proxy = ssh.proxy;
  if (proxy?.type === 'jump') set('proxy', new RubyObject('Net::SSH::Proxy::Jump', [['jump_proxies', proxy.jumpProxies]]));
  if (proxy?.type === 'command') {
    set(
      'proxy',
      new RubyObject('Net::SSH::Proxy::Command', [
        ['command_line_template', proxy.commandLineTemplate],
        ['command_line', null],
        ['timeout', 60],
      ]),
    );
  }
  set('keepalive', true);
  set('keepalive_interval', 30);
  set('keys_only', raw.keys_only);
  set('keys', plain(raw.keys, ['ssh', 'keys'], types));
  // key_data holds private keys: always redacted (Kamal prints them)
  if (raw.key_data !== undefined && raw.key_data !== null) set('key_data', Array.isArray(raw.key_data) ? raw.key_data.map(() => REDACTED) : REDACTED);
  set('config', plain(raw.config, ['ssh', 'config'], types));
  set('forward_agent', raw.forward_agent);
  out.set(sym('log_level'), raw.log_level === undefined || raw.log_level === null ? sym('fatal') : plain(raw.log_level, ['ssh', 'log_level'], types));
  return out;
}

/** Kamal's Configuration#to_h (`kamal config`), with Kamal's symbol keys and value types. */
export function kamalConfigHash(k: Kamal): Map<RubySymbol, unknown> {
  const c = k.config;
  const version = c.version;
  const raw = c.rawConfig;
  const types = configSource(k);
  const entries: Array<[string, unknown]> = [
    ['roles', c.roleNames],
    ['hosts', c.allHosts],
    ['primary_host', c.primaryHost],
    ['version', version],
    ['repository', c.repository],
    ['absolute_image', c.absoluteImage],
    ['service_with_version', c.serviceWithVersion],
    ['volume_args', isPresent(raw.volumes) ? argumentizeText('--volume', (raw.volumes as unknown[]).map(rubyToS)) : []],
    ['ssh_options', sshOptions(k, types)],
    ['sshkit', plain(c.sshkit.sshkitConfig, ['sshkit'], types)],
    ['builder', plain(c.builder.builderConfig, ['builder'], types)],
    ['accessories', plain(raw.accessories, ['accessories'], types)],
    ['logging', loggingArgsText(k)],
  ];
  return new Map(entries.filter(([, v]) => v !== undefined && v !== null).map(([key, v]) => [sym(key), v]));
}

/** `config`: the resolved configuration as Kamal prints it (YAML of `to_h`), secrets redacted. */
export function printConfig(k: Kamal): void {
  k.reporter.write(toRubyYaml(kamalConfigHash(k)));
}

const DEPLOY_YML = `# The name of your application; containers are named after it.
service: my-app

# The image to build and deploy.
image: my-user/my-app

# The servers to deploy to, by role.
servers:
  web:
    - 192.168.0.1
  # job:
  #   hosts:
  #     - 192.168.0.1
  #   cmd: bin/jobs

# kamal-proxy routes requests to the app and obtains a Let's Encrypt certificate.
# With several web servers, terminate SSL at a load balancer and drop ssl: true.
proxy:
  ssl: true
  host: app.example.com
  # The port the app listens on inside its container (80 by default).
  # app_port: 3000

# Where the image is pushed to and pulled from.
registry:
  server: localhost:5555
  # server: ghcr.io
  # username: my-user
  # The password is a secret name, resolved from .kamal/secrets.
  # password:
  #   - KAMAL_REGISTRY_PASSWORD

# How the image is built.
builder:
  arch: amd64
  # args:
  #   RUBY_VERSION: 3.4.1

# Environment for the containers; secret values come from .kamal/secrets.
# env:
#   clear:
#     DB_HOST: 192.168.0.2
#   secret:
#     - RAILS_MASTER_KEY

# Shortcuts run as "kamal-action <alias>".
# aliases:
#   shell: app exec --interactive --reuse "bash"

# Log in as another user than root.
# ssh:
#   user: app

# Persistent storage for the app containers.
# volumes:
#   - "app_storage:/app/storage"

# Keep fingerprinted assets of the old and new versions available during a deploy.
# asset_path: /app/public/assets

# Roll out in batches: a number of hosts or a percentage, and seconds between batches.
# boot:
#   limit: 10
#   wait: 2

# Services the app depends on.
# accessories:
#   db:
#     image: mysql:8.0
#     host: 192.168.0.2
#     port: 3306
#     env:
#       clear:
#         MYSQL_ROOT_HOST: '%'
#       secret:
#         - MYSQL_ROOT_PASSWORD
#     files:
#       - config/mysql/production.cnf:/etc/mysql/my.cnf
#     directories:
#       - data:/var/lib/mysql
`;

const SECRETS = `# Secrets referenced by registry/password, env/secret, builder/secrets and
# accessories/*/env/secret in config/deploy.yml. Keep raw credentials out of this
# file: read them from the environment or a command, so it is safe to commit.
#
# With destinations, shared secrets go in .kamal/secrets-common and
# destination-specific ones in .kamal/secrets.<destination>.

# From the environment (in GitHub Actions, pass them through the action's secrets input):
# KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD

# From a command:
# RAILS_MASTER_KEY=$(cat config/master.key)
`;

const HOOKS: Record<string, string> = {
  'docker-setup': 'Runs after Docker is installed on the servers by setup.',
  'pre-connect': 'Runs before the first connection to the servers (warm DNS, open a VPN...).',
  'pre-build': 'Runs before the image is built; a non-zero exit stops the deploy.',
  'pre-deploy': 'Runs before the deploy starts, with the lock held; a non-zero exit stops the deploy.',
  'post-deploy': 'Runs after a deploy, redeploy or rollback; KAMAL_RUNTIME holds the seconds it took.',
  'pre-app-boot': 'Runs before the app boots on each group of hosts (KAMAL_HOSTS).',
  'post-app-boot': 'Runs after the app booted on each group of hosts (KAMAL_HOSTS).',
  'pre-proxy-reboot': 'Runs before kamal-proxy is rebooted on KAMAL_HOSTS.',
  'post-proxy-reboot': 'Runs after kamal-proxy was rebooted on KAMAL_HOSTS.',
};

function hookSample(name: string, what: string): string {
  return `#!/bin/sh
# Sample ${name} hook: ${what}
# Rename to "${name}" (drop .sample) to enable it.
#
# Available: KAMAL_RECORDED_AT KAMAL_PERFORMER KAMAL_VERSION KAMAL_SERVICE_VERSION
# KAMAL_SERVICE KAMAL_HOSTS KAMAL_COMMAND KAMAL_SUBCOMMAND, and when set
# KAMAL_ROLES KAMAL_DESTINATION KAMAL_RUNTIME KAMAL_LOCK.

echo "${name}: $KAMAL_SERVICE_VERSION on $KAMAL_HOSTS"
`;
}

export async function init(io: { cwd: string; out: (s: string) => void }): Promise<void> {
  const deployFile = join(io.cwd, 'config/deploy.yml');
  if (existsSync(deployFile)) {
    io.out('Config file already exists in config/deploy.yml (remove first to create a new one)\n');
  } else {
    mkdirSync(dirname(deployFile), { recursive: true });
    writeFileSync(deployFile, DEPLOY_YML);
    io.out('Created configuration file in config/deploy.yml\n');
  }
  const secretsFile = join(io.cwd, '.kamal/secrets');
  if (!existsSync(secretsFile)) {
    mkdirSync(dirname(secretsFile), { recursive: true });
    writeFileSync(secretsFile, SECRETS);
    io.out('Created .kamal/secrets file\n');
  }
  const hooksDir = join(io.cwd, '.kamal/hooks');
  if (!existsSync(hooksDir)) {
    mkdirSync(hooksDir, { recursive: true });
    for (const [name, what] of Object.entries(HOOKS)) {
      const file = join(hooksDir, `${name}.sample`);
      writeFileSync(file, hookSample(name, what));
      chmodSync(file, 0o755);
    }
    io.out('Created sample hooks in .kamal/hooks\n');
  }
}
