/** Builds a run context from CLI flags: config, secrets, version, runners, reporter, hooks. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ConfigError, UsageError } from '../errors.js';
import { loadConfig } from '../config/index.js';
import { KAMAL_VERSION } from '../config/constants.js';
import { Kamal, type GlobalOptions } from '../engine/kamal.js';
import { PlanRunner } from '../exec/plan-runner.js';
import type { Reporter } from '../engine/reporter.js';
import { installHookRunner, performer } from '../engine/hooks.js';
import { SecretRegistry } from '../secret.js';
import { LocalRunner } from '../exec/local.js';
import type { Runner } from '../exec/types.js';
import { sshPoolFor } from './ssh-options.js';
import { runOutputFor } from '../output/run-output.js';
import { KamalShim, SHIM_ENV, shimSettings } from '../exec/kamal-shim.js';

export interface ContextOptions extends GlobalOptions {
  /** Record commands instead of running them. */
  plan?: boolean;
  /** Host key checking for the SSH pool. */
  hostKeyChecking?: 'strict' | 'accept-new' | 'off';
  knownHostsFile?: string;
  /** A private key file tried before the config's keys (the action's ssh-private-key input). */
  sshKeyFile?: string;
}

export interface ContextDeps {
  cwd: string;
  env: Record<string, string | undefined>;
  reporter: Reporter;
  signal?: AbortSignal;
  confirm?: (q: string) => Promise<boolean>;
  /** Override runners (tests, the action). */
  runner?: Runner;
  local?: Runner;
  /** Extra secrets from outside the secrets files (action inputs). */
  extraSecrets?: Record<string, string>;
  /** Loads the configuration and its secrets (the action passes one that loads once per step). */
  loadConfig?: typeof loadConfig;
}

function git(cwd: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Kamal's default version: the git commit, with `_uncommitted_<hex>` when the tree is dirty. */
export function gitVersion(cwd: string, opts: { gitClone?: boolean } = {}): string | undefined {
  const revision = git(cwd, ['rev-parse', 'HEAD']);
  if (!revision) return undefined;
  const dirty = git(cwd, ['status', '--porcelain']);
  return dirty && !opts.gitClone ? `${revision}_uncommitted_${randomBytes(8).toString('hex')}` : revision;
}

/** Who runs this (audit lines, lock details, hooks), asked of git only when first needed. */
function lazySource(cwd: string): { readonly performer: string; readonly lockedBy: string } {
  let who: string | undefined;
  let name: string | undefined;
  return {
    get performer() {
      return (who ??= performer(cwd));
    },
    get lockedBy() {
      return (name ??= git(cwd, ['config', 'user.name']) || 'Unknown');
    },
  };
}

/** Names and tags given on the command line, checked before any of them is used (files, commands). */
const CLI_VALUES: { key: keyof ContextOptions; flag: string; list: boolean; pattern: RegExp; what: string }[] = [
  {
    key: 'destination',
    flag: '--destination',
    list: false,
    pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    what: "a destination name (letters, digits, '.', '_', '-'; no path separators)",
  },
  {
    key: 'version',
    flag: '--version',
    list: false,
    pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    what: "an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-')",
  },
  {
    key: 'hosts',
    flag: '--hosts',
    list: true,
    pattern: /^(?:[A-Za-z0-9_.*-]+|\[[0-9A-Fa-f:.*]+\]|[0-9A-Fa-f:.*]+)$/,
    what: "a host name or address (letters, digits, '.', '-', '_', ':' and the wildcard '*')",
  },
  {
    key: 'roles',
    flag: '--roles',
    list: true,
    pattern: /^[A-Za-z0-9_*][A-Za-z0-9_.*-]*$/,
    what: "a role name (letters, digits, '_', '.', '-' and the wildcard '*')",
  },
];

/** Throws a UsageError naming the flag for a destination, version, host or role that is not well formed. */
export function validateCliValues(opts: ContextOptions): void {
  for (const v of CLI_VALUES) {
    const value = opts[v.key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new UsageError(`${v.flag}: must be text`);
    const items = v.list ? value.split(',').map((s) => s.trim()) : [value];
    for (const item of items) {
      if (!v.pattern.test(item)) throw new UsageError(`${v.flag}: ${JSON.stringify(item)} is not ${v.what}`);
    }
  }
}

export async function createContext(opts: ContextOptions, deps: ContextDeps, command: string, subcommand?: string): Promise<Kamal> {
  validateCliValues(opts);
  // Defaults for -c and -d from a `kamal` of ours (a hook's, a secrets shell's or a later workflow step's).
  opts = {
    ...opts,
    configFile: opts.configFile ?? (deps.env[SHIM_ENV.configFile] || undefined),
    destination: opts.destination ?? (deps.env[SHIM_ENV.destination] || undefined),
  };
  const env = { ...deps.env };
  // As Kamal's Configuration.create_from: ENV["KAMAL_DESTINATION"] = destination (nil removes it).
  if (opts.destination) env.KAMAL_DESTINATION = opts.destination;
  else delete env.KAMAL_DESTINATION;
  // `kamal` for hooks and `.kamal/secrets` shells: this CLI with this run's config, destination and SSH settings.
  const shim = new KamalShim(shimSettings(opts, deps.env, deps.cwd));
  const config = await (deps.loadConfig ?? loadConfig)({
    configFile: opts.configFile ?? 'config/deploy.yml',
    destination: opts.destination,
    cwd: deps.cwd,
    env,
    extraSecrets: deps.extraSecrets,
    kamal: shim,
  });
  // Kamal's version: --version, then VERSION, then the git commit, worked out when first needed.
  config.useVersion(opts.version || env.VERSION || undefined, () => {
    const v = gitVersion(deps.cwd, { gitClone: config.builder.isGitClone(true) });
    if (v) return v;
    if (opts.plan) return '<git-version>';
    throw new ConfigError(`Can't use commit hash as version, no git repository found in ${deps.cwd}`);
  });

  const registry = new SecretRegistry();
  for (const key of config.secrets.keys()) registry.add(config.secrets.get(key));

  let runner: Runner;
  let local: Runner;
  if (opts.plan) {
    runner = local = deps.runner ?? new PlanRunner();
  } else {
    runner = deps.runner ?? sshPoolFor(config, opts, deps.env, deps.cwd);
    local = deps.local ?? new LocalRunner({ cwd: deps.cwd, env: deps.env as Record<string, string> });
  }
  // `output:` (file, OTel): the run's log beside the reporter
  const output = opts.plan
    ? undefined
    : runOutputFor(config, {
        cwd: deps.cwd,
        reporter: deps.reporter,
        redact: (t) => registry.redact(t),
        performer: () => performer(deps.cwd),
        kamalVersion: KAMAL_VERSION,
      });
  if (output) {
    const same = local === runner;
    runner = output.runner(runner);
    local = same ? runner : output.runner(local);
  }

  const k = new Kamal({
    config,
    runner,
    local,
    reporter: output ? output.reporter(deps.reporter) : deps.reporter,
    // --all-or-nothing, or KAMAL_ACTION_ALL_OR_NOTHING=true in the run's environment
    options: { ...opts, allOrNothing: !!opts.allOrNothing || env.KAMAL_ACTION_ALL_OR_NOTHING === 'true' },
    dryRun: opts.plan,
    signal: deps.signal,
    secrets: registry,
    cwd: deps.cwd,
    env,
    confirm: deps.confirm,
    command,
    subcommand,
    source: lazySource(deps.cwd),
  });
  k.output = output;
  installHookRunner(k, {
    kamal: shim,
    secretEnv: () => Object.fromEntries(config.secrets.keys().map((key) => [key, config.secrets.get(key)!.reveal()])),
  });
  k.kamalShim = shim;
  k.gitStatus = () => git(deps.cwd, ['status', '--porcelain']) || undefined;
  k.gitInfo = () => {
    const root = git(deps.cwd, ['rev-parse', '--show-toplevel']);
    const revision = git(deps.cwd, ['rev-parse', 'HEAD']);
    return root && revision ? { root, revision } : undefined;
  };
  k.gitFiles = () => {
    const lines = (args: string[]) =>
      (git(deps.cwd, args) ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    return { uncommitted: lines(['ls-files', '--modified']), untracked: lines(['ls-files', '--others']) };
  };
  k.builderSecretEnv = () => {
    const out: Record<string, string> = {};
    for (const [name, secret] of config.builder.secrets) out[name] = secret.reveal();
    return out;
  };
  return k;
}
