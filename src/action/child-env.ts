/**
 * The environment of every process the action starts on the runner: hooks, builds,
 * `.kamal/secrets` shells, `docker`, `git`, `ssh`. It is the runner's environment
 * without the action's inputs and state, without the runner's service tokens, and
 * with only the secrets the configuration and `.kamal/secrets` files name (or the
 * `secrets-env` input lists).
 */
import { resolve } from 'node:path';
import { readRegularFile, ONE_MIB } from '../fs-safe.js';
import { destinationConfigFile } from '../config/load.js';

/** Names that change how programs start or where they connect: never taken from the secrets input. */
const UNSAFE_EXACT = new Set([
  'PATH',
  'ENV',
  'BASH_ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'IFS',
  'PS1',
  'PS2',
  'PS4',
  'PROMPT_COMMAND',
  'CDPATH',
  'GLOBIGNORE',
  'HOME',
  'SHELL',
  'TMPDIR',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'GEM_HOME',
  'GEM_PATH',
  'BUNDLE_GEMFILE',
  'JAVA_TOOL_OPTIONS',
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_CONFIG',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
  'BUILDX_CONFIG',
  'BUILDX_BUILDER',
  'SSH_AUTH_SOCK',
  'SSH_ASKPASS',
  'SSH_ASKPASS_REQUIRE',
  'KAMAL_LOCK',
  'KAMAL_DESTINATION',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
]);
const UNSAFE_PREFIXES = [
  'LD_',
  'DYLD_',
  'GITHUB_',
  'RUNNER_',
  'ACTIONS_',
  'INPUT_',
  'STATE_',
  'BASH_FUNC_',
  'GIT_',
  'NPM_CONFIG_',
  'npm_config_',
  'KAMAL_ACTION_',
  'GCONV_',
  'MALLOC_',
  'LOCPATH',
];

/** Why `name` may not be exported from the secrets input, or undefined when it may. */
export function unsafeEnvName(name: string): string | undefined {
  if (UNSAFE_EXACT.has(name)) return `'${name}' changes how programs run`;
  const prefix = UNSAFE_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `'${name}' (${prefix}*) belongs to the runner or changes how programs run`;
  return undefined;
}

/** Runner variables no child process gets: the service tokens and URLs of the job. */
const RUNNER_SECRETS = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RUNTIME_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_SERVICE_V2',
  'GITHUB_TOKEN',
];

/** The variables buildx's `type=gha` cache reads; given to the build only when the config asks for that cache. */
export const GHA_CACHE_VARIABLES = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_SERVICE_V2'];

export function isRunnerOnly(name: string): boolean {
  return name.startsWith('INPUT_') || name.startsWith('STATE_') || RUNNER_SECRETS.includes(name);
}

/**
 * The runner's environment without what no child may see: INPUT_* and STATE_*, the
 * runner's tokens, and any variable holding one of `hidden` (the github-token
 * input, the SSH key) under another name.
 */
export function runnerEnv(env: Record<string, string | undefined>, hidden: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const values = new Set(hidden.filter((v) => v.trim() !== ''));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || isRunnerOnly(k) || values.has(v)) continue;
    out[k] = v;
  }
  return out;
}

/** Removes from `env` (process.env at start-up) what runnerEnv leaves out. */
export function scrubEnv(env: Record<string, string | undefined>, hidden: readonly string[] = []): void {
  const keep = runnerEnv(env, hidden);
  for (const k of Object.keys(env)) if (!(k in keep)) delete env[k];
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

function words(path: string): Set<string> {
  try {
    return new Set(readRegularFile(path, ONE_MIB).toString('utf8').match(IDENT) ?? []);
  } catch {
    // missing or refused: the run reports it when it reads the file
    return new Set();
  }
}

/**
 * The names among `names` that the configuration files or the secrets files
 * mention (`env.secret`, `registry.password`, `builder.secrets`, ERB `ENV["X"]`,
 * `X=$X` in `.kamal/secrets`): the secrets a run can need.
 */
export function referencedNames(names: readonly string[], opts: { cwd: string; configFile: string; destination?: string }): Set<string> {
  const configs = [opts.configFile];
  if (opts.destination) configs.push(destinationConfigFile(opts.configFile, opts.destination));
  const seen = new Set<string>();
  let secretsPath = '.kamal/secrets';
  for (const file of configs) {
    const full = resolve(opts.cwd, file);
    for (const w of words(full)) seen.add(w);
    try {
      const m = /^secrets_path:\s*["']?([^"'\s#]+)/m.exec(readRegularFile(full, ONE_MIB).toString('utf8'));
      if (m) secretsPath = m[1]!;
    } catch {
      // reported by the run
    }
  }
  // as Kamal reads them: the common file, then the destination's file or the plain one
  const secretFiles = [`${secretsPath}-common`, opts.destination ? `${secretsPath}.${opts.destination}` : secretsPath];
  for (const file of secretFiles) for (const w of words(resolve(opts.cwd, file))) seen.add(w);
  return new Set(names.filter((n) => seen.has(n)));
}
