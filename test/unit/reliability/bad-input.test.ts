/**
 * Bad input corpus: broken configs, broken secrets files and bad CLI
 * arguments, each run through runCli (in process) on a fresh copy of the
 * fixture app with a RecordingRunner as both the remote and the local
 * runner. Every case must fail with exit code 1 and exactly the message
 * given (naming the key path, file and line, or argument), without a stack
 * trace or a secret value, before any command runs anywhere.
 *
 * Then a property run: random deploy.yml contents through runCli never
 * crash, always exit 0 or 1, never print a stack trace.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { RecordingRunner, type Responder } from '../../../test/support/recording.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { APP_FIXTURE, FIXTURE_SECRETS, Fleet, STACK_FRAME, WEB1, WEB2, copyApp, removeDirs, testEnv } from './fleet.js';

const BAD = fileURLToPath(new URL('../../fixtures/bad-input', import.meta.url));
const BASE = readFileSync(join(APP_FIXTURE, 'config/deploy.yml'), 'utf8');
const COMMON = readFileSync(join(APP_FIXTURE, '.kamal/secrets-common'), 'utf8');
const DEPLOY = ['deploy', '--version', 'v2'];
const MiB = 1024 * 1024;

const dirs: string[] = [];
afterAll(() => removeDirs(dirs));

interface BadCase {
  name: string;
  /** Default: `deploy --version v2`. */
  args?: string[];
  /** Files written over the fixture app (relative path → content; null removes it). */
  files?: Record<string, string | Buffer | null>;
  env?: Record<string, string>;
  /** The whole of stderr, without its final newline; `<app>` stands for the app folder. */
  err: string;
  /** Values that must not appear anywhere (besides the fixture's secrets). */
  secrets?: string[];
}

/** The fixture's deploy.yml with `from` replaced by `to` (which must be there). */
function edit(from: string, to: string): string {
  if (!BASE.includes(from)) throw new Error(`not in the fixture: ${from}`);
  return BASE.replace(from, to);
}

const bad = (file: string): Buffer => readFileSync(join(BAD, file));
const config = (content: string | Buffer): BadCase['files'] => ({ 'config/deploy.yml': content });
const FILES = '.kamal/secrets-common, .kamal/secrets';

const CONFIGS: BadCase[] = [
  // ---- not YAML at all ----
  {
    name: 'tab indentation',
    files: config(bad('tabs.yml')),
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 9, column 1: Tabs are not allowed as indentation',
  },
  { name: 'binary file (a PNG)', files: config(bad('binary.yml')), err: 'Configuration error: config/deploy.yml: is a binary file, not YAML text' },
  { name: 'invalid UTF-8 (saved as Latin-1)', files: config(bad('latin1.yml')), err: 'Configuration error: config/deploy.yml: is not valid UTF-8 text' },
  { name: 'UTF-16 with a byte order mark', files: config(bad('utf16.yml')), err: 'Configuration error: config/deploy.yml: is a binary file, not YAML text' },
  {
    name: 'a NUL byte in the text',
    files: config(`${BASE}x-note: "a\u0000b"\n`),
    err: 'Configuration error: config/deploy.yml: is a binary file, not YAML text',
  },
  {
    name: 'a file over the 1 MiB limit',
    files: config(`${BASE}# ${'x'.repeat(MiB)}\n`),
    err: `Configuration error: config/deploy.yml: file is too large (${Buffer.byteLength(BASE) + MiB + 3} bytes; the limit is ${MiB})`,
  },
  {
    name: 'unclosed flow sequence',
    files: config(edit('      - 10.0.0.1\n', '      - [10.0.0.1\n')),
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 11, column 7: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'unclosed double quote',
    files: config(edit('image: acme/app', 'image: "acme/app')),
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 6, column 1: Missing closing "quote',
  },
  {
    name: 'a key indented under a scalar',
    files: config(edit('image: acme/app', '  image: acme/app')),
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 4, column 10: Nested mappings are not allowed in compact mappings',
  },
  {
    name: 'an alias to an anchor never defined',
    files: config(`${BASE}x-ref: *nope\n`),
    err: 'Configuration error: config/deploy.yml:57: unknown YAML alias *nope',
  },
  {
    name: 'aliases expanding to 10^7 nodes (billion laughs)',
    files: config(bad('billion-laughs.yml')),
    err: 'Configuration error: config/deploy.yml:61: the document expands to more than 100000 nodes (too many aliases)',
  },
  {
    name: 'a !ruby/object tag',
    files: config(bad('ruby-object.yml')),
    err: 'Configuration error: config/deploy.yml:5: unsupported YAML tag !ruby/object:OpenStruct',
  },
  {
    name: 'an empty file',
    files: config(''),
    err: 'Configuration error: config/deploy.yml: the configuration must be a YAML mapping of keys to values, not an empty document',
  },
  {
    name: 'only comments',
    files: config('# TODO: fill in\n'),
    err: 'Configuration error: config/deploy.yml: the configuration must be a YAML mapping of keys to values, not an empty document',
  },
  {
    name: 'a list at the root',
    files: config('- service: app\n- image: acme/app\n'),
    err: 'Configuration error: config/deploy.yml: the configuration must be a YAML mapping of keys to values, not a list',
  },
  {
    name: 'a scalar at the root',
    files: config('service app\n'),
    err: 'Configuration error: config/deploy.yml: the configuration must be a YAML mapping of keys to values, not a string',
  },

  // ---- duplicate keys: the last one wins, as with Psych, and is what gets validated ----
  {
    name: 'duplicate root key, the last of a wrong type',
    files: config(`${BASE}image: [acme/app, acme/other]\n`),
    err: 'Configuration error: image: should be a string',
  },
  {
    name: 'duplicate nested key, the last of a wrong type',
    files: config(edit('    cmd: bin/jobs', '    cmd: bin/jobs\n    cmd: [bin/jobs, --verbose]')),
    err: 'Configuration error: servers/job/cmd: should be a string',
  },

  // ---- missing and wrong-typed keys ----
  { name: 'no service', files: config(edit('service: app\n', '')), err: 'Configuration error: Missing required configuration for service' },
  { name: 'no image', files: config(edit('image: acme/app\n', '')), err: 'Configuration error: Missing required configuration for image' },
  { name: 'an empty image', files: config(edit('image: acme/app', 'image: ""')), err: 'Configuration error: Missing required configuration for image' },
  {
    name: 'a service name with spaces',
    files: config(edit('service: app', 'service: my app')),
    err: 'Configuration error: Service name can only include alphanumeric characters, hyphens, and underscores',
  },
  {
    name: 'servers as a string',
    files: config(edit('servers:\n  web:', 'servers: 10.0.0.1\nx-old-servers:\n  web:')),
    err: 'Configuration error: servers: should be an array or a hash',
  },
  {
    name: 'hosts as a number',
    files: config(edit('    hosts:\n      - 10.0.0.1\n      - 10.0.0.2', '    hosts: 42')),
    err: 'Configuration error: servers/web/hosts: should be an array\nNo servers specified for the web primary_role',
  },
  {
    name: 'app_port as a list',
    files: config(edit('app_port: 3000', 'app_port: [3000]')),
    err: 'Configuration error: servers/web/proxy/app_port: should be an integer',
  },
  {
    name: 'healthcheck as a string',
    files: config(edit('      healthcheck:\n        path: /up', '      healthcheck: /up')),
    err: 'Configuration error: servers/web/proxy/healthcheck: should be a hash',
  },
  {
    name: 'env/secret as a string',
    files: config(edit('  secret:\n    - RAILS_MASTER_KEY\n    - DB_PASSWORD', '  secret: RAILS_MASTER_KEY')),
    err: 'Configuration error: env/secret: should be an array',
  },
  {
    name: 'env/clear as a list',
    files: config(edit('  clear:\n    RAILS_LOG_TO_STDOUT: "1"\n    DB_HOST: app-mysql', '  clear:\n    - RAILS_LOG_TO_STDOUT=1')),
    err: 'Configuration error: env/clear: should be a hash',
  },
  {
    name: 'registry password as a number',
    files: config(edit('  password:\n    - KAMAL_REGISTRY_PASSWORD', '  password: 1234')),
    err: 'Configuration error: registry/password: should be a string or an array with one string (for secret lookup)',
  },
  {
    name: 'accessory port as a list',
    files: config(edit('port: "127.0.0.1:3306:3306"', 'port: [3306]')),
    err: 'Configuration error: accessories/mysql/port: should be a string',
  },
  { name: 'deploy_timeout as words', files: config(`${BASE}deploy_timeout: soon\n`), err: 'Configuration error: deploy_timeout: should be an integer' },
  { name: 'retain_containers 0', files: config(`${BASE}retain_containers: 0\n`), err: 'Configuration error: Must retain at least 1 container' },
  { name: 'require_destination without -d', files: config(`${BASE}require_destination: true\n`), err: 'Configuration error: You must specify a destination' },
  {
    name: 'minimum_version above this one',
    files: config(`${BASE}minimum_version: 99.0.0\n`),
    err: 'Configuration error: Current version is 2.12.0, minimum required is 99.0.0',
  },

  // ---- unknown keys ----
  { name: 'unknown root key', files: config(`${BASE}frobnicate: 1\n`), err: 'Configuration error: unknown key: frobnicate' },
  {
    name: 'unknown key in a role',
    files: config(edit('    cmd: bin/jobs', '    cmd: bin/jobs\n    replicas: 2')),
    err: 'Configuration error: servers/job: unknown key: replicas',
  },
  {
    name: 'unknown key in a role proxy',
    files: config(edit('      app_port: 3000', '      app_port: 3000\n      port: 3000')),
    err: 'Configuration error: servers/web/proxy: unknown key: port',
  },
  {
    name: 'unknown key in an accessory',
    files: config(edit('    image: mysql:8.0', '    image: mysql:8.0\n    restart: always')),
    err: 'Configuration error: accessories/mysql: unknown key: restart',
  },

  // ---- ERB ----
  {
    name: 'ERB fetching a missing env var',
    files: config(edit('image: acme/app', 'image: <%= ENV.fetch("APP_IMAGE") %>')),
    err: 'Configuration error: config/deploy.yml:5: key not found: "APP_IMAGE"',
  },
  {
    name: 'ERB reading a missing env var (renders empty)',
    files: config(edit('image: acme/app', 'image: <%= ENV["APP_IMAGE"] %>')),
    err: 'Configuration error: image: should be a string\nMissing required configuration for image',
  },
  {
    name: 'ERB reading a missing file (Ruby evaluates it)',
    files: config(edit('image: acme/app', 'image: <%= File.read("IMAGE").strip %>')),
    err: 'Configuration error: config/deploy.yml:5: No such file or directory @ rb_sysopen - IMAGE (Errno::ENOENT)',
  },
  {
    name: 'ERB running a shell command that prints nothing',
    files: config(edit('image: acme/app', 'image: <%= `cat IMAGE 2>/dev/null` %>')),
    err: 'Configuration error: image: should be a string\nMissing required configuration for image',
  },
  {
    name: 'unterminated ERB tag',
    files: config(edit('image: acme/app', 'image: <%= ENV["APP_IMAGE"]')),
    err: 'Configuration error: config/deploy.yml:5: unterminated ERB tag: <%= ENV["APP_IMAGE"]',
  },
  {
    name: 'ERB output that breaks the YAML (error at the template line)',
    files: config(edit('    cmd: bin/jobs', '    cmd: <%= ENV["JOBS_CMD"] %>')),
    env: { JOBS_CMD: 'bin/jobs: [' },
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 23, column 10: Nested mappings are not allowed in compact mappings',
  },
  {
    name: 'ERB output over two lines, a tab further down (still the template line)',
    files: config(bad('tabs.yml').toString().replace('image: acme/app', 'image: <%= ENV["IMAGE"] %>')),
    env: { IMAGE: 'acme/app\n# built by CI' },
    err: 'Configuration error: config/deploy.yml: invalid YAML at line 9, column 1: Tabs are not allowed as indentation',
  },

  // ---- files ----
  {
    name: 'a config file that is not there',
    args: [...DEPLOY, '-c', 'config/deploy.yaml'],
    err: 'Configuration error: Configuration file not found in config/deploy.yaml',
  },
  { name: 'a directory as the config file', args: [...DEPLOY, '-c', 'config'], err: 'Configuration error: config: is a directory, not a configuration file' },
  { name: 'a destination without its file', args: [...DEPLOY, '-d', 'qa'], err: 'Configuration error: Configuration file not found in config/deploy.qa.yml' },
  {
    name: 'a broken destination file',
    args: [...DEPLOY, '-d', 'staging'],
    files: { 'config/deploy.staging.yml': 'servers:\n  web:\n\thosts: [10.1.0.1]\n' },
    err: 'Configuration error: config/deploy.staging.yml: invalid YAML at line 3, column 1: Tabs are not allowed as indentation',
  },
  {
    name: 'ERB in the destination file fetching a missing env var',
    args: [...DEPLOY, '-d', 'staging'],
    files: { 'config/deploy.staging.yml': 'servers:\n  web:\n    hosts:\n      - <%= ENV.fetch("STAGING_HOST") %>\n' },
    err: 'Configuration error: config/deploy.staging.yml:4: key not found: "STAGING_HOST"',
  },
];

const SECRETS: BadCase[] = [
  {
    name: 'binary secrets file (a zip)',
    files: { '.kamal/secrets': bad('secrets-binary') },
    err: 'Configuration error: .kamal/secrets: is a binary file, not dotenv text',
  },
  {
    name: 'binary secrets-common',
    files: { '.kamal/secrets-common': bad('binary.yml') },
    err: 'Configuration error: .kamal/secrets-common: is a binary file, not dotenv text',
  },
  {
    name: 'secrets file over the 1 MiB limit',
    files: { '.kamal/secrets': `BIG=${'x'.repeat(MiB)}\n` },
    err: `Configuration error: .kamal/secrets: file is too large (${MiB + 5} bytes; the limit is ${MiB})`,
  },
  {
    name: 'a failing $(command)',
    files: { '.kamal/secrets-common': bad('secrets-failing-command') },
    err: 'Configuration error: .kamal/secrets-common: line 2: the command substitution failed: exit code 1 ([ERROR] You are not currently signed in.)',
  },
  {
    name: 'a $(command) that is not installed',
    files: { '.kamal/secrets': 'DB_PASSWORD=$(no-such-password-tool get db)\n' },
    err: 'Configuration error: .kamal/secrets: line 1: the command substitution failed: exit code 127 (sh: 1: no-such-password-tool: not found)',
  },
  {
    name: 'a failing $(command) whose error output holds a secret defined above',
    files: { '.kamal/secrets': 'VAULT_TOKEN=hvs-7c1e2f90aa\nDB_PASSWORD=$(echo "vault: token $VAULT_TOKEN is expired" >&2; exit 2)\n' },
    err: 'Configuration error: .kamal/secrets: line 2: the command substitution failed: exit code 2 (vault: token [REDACTED] is expired)',
    secrets: ['hvs-7c1e2f90aa'],
  },
  {
    name: 'a failing $(command) whose error output holds a secret of secrets-common',
    files: { '.kamal/secrets': 'DB_PASSWORD=$(echo "login failed for $KAMAL_REGISTRY_PASSWORD" >&2; exit 3)\n' },
    // $KAMAL_REGISTRY_PASSWORD is not this file's (dotenv reads the environment), so the value comes from the
    // environment given: shown here through the env of the run
    env: { KAMAL_REGISTRY_PASSWORD: 'reg-pw-common-5f3a9c' },
    err: 'Configuration error: .kamal/secrets: line 1: the command substitution failed: exit code 3 (login failed for [REDACTED])',
  },
  {
    name: 'a `kamal secrets fetch` adapter line whose password manager CLI is not installed',
    files: { '.kamal/secrets-common': bad('secrets-adapter') },
    err: 'Configuration error: .kamal/secrets-common: line 2: 1Password CLI is not installed',
  },
  {
    name: 'kamal secrets extract of text that is not JSON',
    files: { '.kamal/secrets': 'DB_PASSWORD=$(kamal secrets extract DB_PASSWORD not-json)\n' },
    err: "Configuration error: .kamal/secrets: line 1: unexpected token 'not-json' at line 1 column 1",
  },
  {
    name: 'kamal secrets extract of a missing key',
    files: { '.kamal/secrets': `DB_PASSWORD=$(kamal secrets extract DB_PASSWORD '{"Deploy/app/OTHER":"x"}')\n` },
    err: 'Configuration error: .kamal/secrets: line 1: Could not find secret DB_PASSWORD',
  },
  {
    name: 'export of a name never set',
    files: { '.kamal/secrets': '# exported for the hooks\nexport DEPLOY_TOKEN\n' },
    err: 'Configuration error: .kamal/secrets: line 2 exports DEPLOY_TOKEN without a value and it is not set above',
  },
  {
    name: 'a failing $(command) in the destination file',
    args: [...DEPLOY, '-d', 'staging'],
    files: { '.kamal/secrets.staging': 'DB_PASSWORD=db-pw\nMYSQL_ROOT_PASSWORD=$(exit 9)\n' },
    err: 'Configuration error: .kamal/secrets.staging: line 2: the command substitution failed: exit code 9',
    secrets: ['db-pw'],
  },
  {
    name: 'env/secret names a secret no file defines',
    files: { '.kamal/secrets': 'MYSQL_ROOT_PASSWORD=mysql-root-1\n' },
    err: `Configuration error: Secret 'DB_PASSWORD' not found in ${FILES}`,
    secrets: ['mysql-root-1'],
  },
  {
    name: 'several secrets missing at once',
    files: { '.kamal/secrets-common': COMMON.replace(/^RAILS_MASTER_KEY=.*\n/m, '').replace(/^KAMAL_REGISTRY_PASSWORD=.*\n/m, ''), '.kamal/secrets': '' },
    err: `Configuration error: Secret 'KAMAL_REGISTRY_PASSWORD' not found in ${FILES}\nSecret 'RAILS_MASTER_KEY' not found in ${FILES}\nSecret 'DB_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'the registry password secret is missing',
    files: { '.kamal/secrets-common': COMMON.replace(/^KAMAL_REGISTRY_PASSWORD=.*\n/m, '') },
    err: `Configuration error: Secret 'KAMAL_REGISTRY_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'the TLS certificate secret is missing',
    files: { '.kamal/secrets-common': COMMON.replace(/^CERTIFICATE_PEM=.*\n/m, '') },
    err: `Configuration error: Secret 'CERTIFICATE_PEM' not found in ${FILES}`,
  },
  {
    name: 'a role env secret is missing',
    files: { 'config/deploy.yml': edit('    cmd: bin/jobs', '    cmd: bin/jobs\n    env:\n      secret:\n        - QUEUE_TOKEN') },
    err: `Configuration error: Secret 'QUEUE_TOKEN' not found in ${FILES}`,
  },
  {
    name: 'an aliased secret (NAME:SECRET) is missing',
    files: { 'config/deploy.yml': edit('    - DB_PASSWORD', '    - DB_PASSWORD\n    - SMTP_PASSWORD:MAILER_PASSWORD') },
    err: `Configuration error: Secret 'MAILER_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'a builder secret is missing',
    files: { 'config/deploy.yml': edit('  arch: amd64', '  arch: amd64\n  secrets:\n    - GITHUB_TOKEN') },
    err: `Configuration error: Secret 'GITHUB_TOKEN' not found in ${FILES}`,
  },
  {
    name: 'an accessory secret is missing (setup)',
    args: ['setup', '--version', 'v2'],
    files: { '.kamal/secrets': 'DB_PASSWORD=db-pw-default-31c8\n' },
    err: `Configuration error: Secret 'MYSQL_ROOT_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'an accessory secret is missing (accessory boot)',
    args: ['accessory', 'boot', 'mysql'],
    files: { '.kamal/secrets': 'DB_PASSWORD=db-pw-default-31c8\n' },
    err: `Configuration error: Secret 'MYSQL_ROOT_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'an accessory secret is missing (accessory reboot all: nothing stopped)',
    args: ['accessory', 'reboot', 'all'],
    files: { '.kamal/secrets': 'DB_PASSWORD=db-pw-default-31c8\n' },
    err: `Configuration error: Secret 'MYSQL_ROOT_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'no secrets files at all',
    files: { '.kamal/secrets': null, '.kamal/secrets-common': null },
    args: ['redeploy', '--version', 'v2', '-r', 'job'],
    err: "Configuration error: Secret 'KAMAL_REGISTRY_PASSWORD' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided\nSecret 'RAILS_MASTER_KEY' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided\nSecret 'DB_PASSWORD' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided",
  },
  {
    name: 'rollback with a secret missing',
    args: ['rollback', 'v1'],
    files: { '.kamal/secrets': '' },
    err: `Configuration error: Secret 'DB_PASSWORD' not found in ${FILES}`,
  },
  {
    name: 'app boot with a secret missing',
    args: ['app', 'boot', '--version', 'v1'],
    files: { '.kamal/secrets': '' },
    err: `Configuration error: Secret 'DB_PASSWORD' not found in ${FILES}`,
  },
];

const ARGS: BadCase[] = [
  { name: 'unknown command', args: ['deplooy'], err: "Error: unknown command 'deplooy'\n(Did you mean deploy?)" },
  { name: 'unknown subcommand', args: ['app', 'restart'], err: "Error: unknown command 'restart'\n(Did you mean start?)" },
  { name: 'unknown option', args: [...DEPLOY, '--force'], err: "Error: unknown option '--force'" },
  { name: 'unknown role', args: [...DEPLOY, '-r', 'nope'], err: 'Error: No --roles match for nope' },
  { name: 'unknown role pattern', args: [...DEPLOY, '--roles', 'w*x'], err: 'Error: No --roles match for w*x' },
  { name: 'unknown role with --primary', args: [...DEPLOY, '-p', '-r', 'nope'], err: 'Error: No --roles match for nope' },
  { name: 'unknown host', args: [...DEPLOY, '-h', '9.9.9.9'], err: 'Error: No --hosts match for 9.9.9.9' },
  { name: 'unknown host (app boot)', args: ['app', 'boot', '--hosts', '9.9.9.9'], err: 'Error: No --hosts match for 9.9.9.9' },
  { name: 'unknown accessory (boot)', args: ['accessory', 'boot', 'redis'], err: "Error: No accessory by the name of 'redis' (options: mysql)" },
  {
    name: 'unknown accessory (exec)',
    args: ['accessory', 'exec', 'redis', 'redis-cli', 'ping'],
    err: "Error: No accessory by the name of 'redis' (options: mysql)",
  },
  { name: 'unknown accessory (logs)', args: ['accessory', 'logs', 'redis'], err: "Error: No accessory by the name of 'redis' (options: mysql)" },
  { name: 'missing required argument (rollback)', args: ['rollback'], err: "Error: missing required argument 'version'" },
  { name: 'missing required argument (accessory boot)', args: ['accessory', 'boot'], err: "Error: missing required argument 'name'" },
  { name: 'missing required argument (app exec)', args: ['app', 'exec'], err: 'Error: No command provided. You must specify a command to execute.' },
  { name: 'missing required option (lock acquire)', args: ['lock', 'acquire'], err: "Error: required option '-m, --message <message>' not specified" },
  { name: 'option without its value', args: ['deploy', '-d'], err: "Error: option '-d, --destination <destination>' argument missing" },
  { name: 'too many arguments', args: ['rollback', 'v1', 'v2'], err: "Error: too many arguments for 'rollback'. Expected 1 argument but got 2." },
  {
    name: '--lock-wait-timeout not a number',
    args: [...DEPLOY, '--lock-wait', '--lock-wait-timeout', '10m'],
    err: "Error: --lock-wait-timeout expects a whole number, got '10m'",
  },
  {
    name: '--lock-wait-timeout negative',
    args: [...DEPLOY, '--lock-wait', '--lock-wait-timeout', '-5'],
    err: 'Error: --lock-wait-timeout must be 0 or more seconds, got -5',
  },
  {
    name: '--lock-wait-interval a fraction',
    args: [...DEPLOY, '--lock-wait', '--lock-wait-interval', '1.5'],
    err: "Error: --lock-wait-interval expects a whole number, got '1.5'",
  },
  {
    name: '--lock-wait-interval 0 (a busy loop)',
    args: [...DEPLOY, '--lock-wait', '--lock-wait-interval', '0'],
    err: 'Error: --lock-wait-interval must be at least 1 second, got 0',
  },
  {
    name: '--host-key-checking not a mode',
    args: [...DEPLOY, '--host-key-checking', 'no'],
    err: "Error: option '--host-key-checking <mode>' argument 'no' is invalid. Allowed choices are strict, accept-new, off.",
  },
  { name: '--lines not a number', args: ['app', 'logs', '-n', 'all'], err: "Error: --lines expects a whole number, got 'all'" },
  { name: 'prune --retain 0', args: ['prune', 'containers', '--retain', '0'], err: 'Error: retain must be at least 1' },
  { name: 'unknown boot_config subcommand', args: ['proxy', 'boot_config', 'show'], err: 'Error: Unknown boot_config subcommand show (use set, get or reset)' },
  { name: 'plan without a command', args: ['plan'], err: 'plan needs a command, e.g. `kamal-action plan deploy --version abc --json`' },
  {
    name: 'no version outside a git checkout',
    args: ['deploy'],
    err: "Configuration error: Can't use commit hash as version, no git repository found in <app>",
  },
];

const ALL = [...CONFIGS, ...SECRETS, ...ARGS];

interface Outcome {
  exitCode: number;
  err: string;
  /** Everything a person could see: stdout, stderr and the reporter's messages, outputs and commands. */
  shown: string;
  runner: RecordingRunner;
  dir: string;
  error: unknown;
}

async function run(c: Pick<BadCase, 'args' | 'files' | 'env'>, respond?: Responder): Promise<Outcome> {
  const dir = copyApp(dirs);
  for (const [path, content] of Object.entries(c.files ?? {})) {
    const full = join(dir, path);
    if (content === null) rmSync(full, { recursive: true, force: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  const runner = new RecordingRunner({ respond });
  const reporter = new MemoryReporter();
  let out = '';
  let err = '';
  const result = await runCli(c.args ?? DEPLOY, {
    cwd: dir,
    env: { ...testEnv(), ...c.env },
    out: (s) => (out += s),
    err: (s) => (err += s),
    runner,
    local: runner,
    reporter,
  });
  const shown = [out, err, reporter.text, JSON.stringify(reporter.messages), JSON.stringify(reporter.outputs), JSON.stringify(reporter.commands)].join('\n');
  return { exitCode: result.exitCode, err: err.split(dir).join('<app>'), shown, runner, dir, error: result.error };
}

describe('bad input corpus', () => {
  it('holds at least 60 cases with distinct names', () => {
    expect(ALL.length).toBeGreaterThanOrEqual(60);
    expect(new Set(ALL.map((c) => c.name)).size).toBe(ALL.length);
  });

  describe.each([
    ['broken config', CONFIGS],
    ['broken secrets', SECRETS],
    ['bad arguments', ARGS],
  ] as const)('%s', (_kind, cases) => {
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const o = await run(c);
      expect(o.err).toBe(`${c.err}\n`);
      expect(o.exitCode).toBe(1);
      expect(o.shown).not.toMatch(STACK_FRAME);
      for (const secret of [...FIXTURE_SECRETS, ...(c.secrets ?? [])]) expect(o.shown).not.toContain(secret);
      // refused before anything ran, here or on a host
      expect(o.runner.lines()).toEqual([]);
    });
  });

  it('the same fixture with nothing broken deploys (the corpus fails for its breakage, not the fixture)', async () => {
    const fleet = new Fleet();
    const o = await run({ args: [...DEPLOY, '--skip-push', '-r', 'web'] }, fleet.respond);
    expect(o.err).toBe('');
    expect(o.exitCode).toBe(0);
    expect([fleet.routedVersion(WEB1, 'web'), fleet.routedVersion(WEB2, 'web')]).toEqual(['v2', 'v2']);
  });
});

// ---- property: random deploy.yml contents through runCli ----

// KAMAL_FUZZ_RUNS=2000 npx vitest run --project unit test/unit/reliability/bad-input.test.ts for a longer search
const RUNS = Number(process.env.KAMAL_FUZZ_RUNS ?? 120);
const TIMEOUT = Math.max(60_000, RUNS * 400);

const fragment = fc.constantFrom(
  'service: app\n',
  'image: acme/app\n',
  'servers:\n',
  '  - 10.0.0.1\n',
  '  web:\n',
  '    hosts: [10.0.0.1, 10.0.0.2]\n',
  '    proxy: {ssl: true}\n',
  '    cmd: bin/jobs\n',
  'registry: {username: u, password: [KAMAL_REGISTRY_PASSWORD]}\n',
  'builder: {arch: amd64}\n',
  'env:\n  secret: [DB_PASSWORD]\n',
  'proxy:\n  host: a.example\n',
  'accessories:\n  db: {host: 10.0.0.4, image: mysql}\n',
  'boot: {limit: 1}\n',
  'ssh: {user: app}\n',
  'aliases: {x: deploy}\n',
  '<%= ENV["X"] %>',
  '<%= ENV.fetch("NOPE") %>',
  '<%',
  '%>',
  '&a ',
  '*a ',
  '<<: *a\n',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ':',
  ' ',
  '  ',
  '\n',
  '\t',
  '"',
  "'",
  '#',
  '---\n',
  '!ruby/sym ',
  '~',
  '0x1F',
  '\u0000',
  '\uFEFF',
);

/** The fixture's deploy.yml with a few random edits: close enough to pass validation now and then. */
const mutated = fc
  .array(fc.tuple(fc.nat(), fc.nat({ max: 12 }), fc.oneof(fragment, fc.string({ maxLength: 6 }))), { minLength: 1, maxLength: 4 })
  .map((edits) => {
    let text = BASE;
    for (const [at, remove, insert] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + insert + text.slice(i + remove);
    }
    return text;
  });

/** Valid YAML: the fixture's config with one key path set to a random value. */
const KEY_PATHS = [
  ['service'],
  ['image'],
  ['servers'],
  ['servers', 'web'],
  ['servers', 'web', 'hosts'],
  ['servers', 'web', 'proxy'],
  ['servers', 'web', 'proxy', 'ssl'],
  ['servers', 'job', 'cmd'],
  ['servers', 'job', 'hosts'],
  ['registry'],
  ['registry', 'password'],
  ['env'],
  ['env', 'clear'],
  ['env', 'secret'],
  ['builder'],
  ['builder', 'arch'],
  ['accessories'],
  ['accessories', 'mysql'],
  ['accessories', 'mysql', 'port'],
  ['accessories', 'mysql', 'files'],
  ['proxy'],
  ['boot'],
  ['ssh'],
  ['labels'],
  ['volumes'],
  ['logging'],
  ['aliases'],
  ['hooks_output'],
  ['retain_containers'],
  ['primary_role'],
];
const replaced = fc.tuple(fc.constantFrom(...KEY_PATHS), fc.jsonValue({ maxDepth: 3 })).map(([path, value]) => {
  // the fixture has no aliases or tags: plain YAML 1.2 parsing gives Kamal's values
  const raw = parseYaml(BASE) as Record<string, unknown>;
  let node = raw;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
  return stringify(raw);
});

describe('random deploy.yml through runCli', () => {
  it.each([
    ['glued YAML and ERB fragments', fc.array(fragment, { maxLength: 40 }).map((a) => a.join(''))],
    ['the fixture with random edits', mutated],
    ['the fixture with one key set to a random value', replaced],
    ['random text', fc.string({ unit: 'binary', maxLength: 400 })],
  ] as const)(
    '%s: never a crash, exit 0 or 1, never a stack trace or a secret',
    async (_kind, arb) => {
      const dir = copyApp(dirs);
      let sawFailure = false;
      await fc.assert(
        fc.asyncProperty(arb, async (text) => {
          writeFileSync(join(dir, 'config/deploy.yml'), text);
          // containers never report healthy (no health check or readiness wait to sit through): a valid config fails at boot
          const runner = new RecordingRunner((_host, command) =>
            command.includes('| xargs docker inspect') ? { exitCode: 1, stderr: 'Error: No such object' } : undefined,
          );
          let out = '';
          let err = '';
          const result = await runCli([...DEPLOY, '--skip-push'], {
            cwd: dir,
            env: { ...testEnv(), X: 'a: b' },
            out: (s) => (out += s),
            err: (s) => (err += s),
            runner,
            local: runner,
            reporter: new MemoryReporter(),
          });
          expect([0, 1]).toContain(result.exitCode);
          expect(out + err).not.toMatch(STACK_FRAME);
          for (const secret of FIXTURE_SECRETS) expect(out + err).not.toContain(secret);
          if (result.exitCode === 1) {
            sawFailure = true;
            expect(err).not.toBe('');
            // a user-facing error, not a bug of ours surfacing as one
            expect(result.error).not.toBeInstanceOf(TypeError);
            expect(result.error).not.toBeInstanceOf(ReferenceError);
            expect(err).not.toMatch(/Cannot read properties|is not a function|is not iterable|undefined \(reading/);
          }
        }),
        { numRuns: RUNS, timeout: 10_000 },
      );
      expect(sawFailure).toBe(true);
    },
    TIMEOUT,
  );
});
