/**
 * Loading a deploy configuration end to end: files (with destination), ERB,
 * YAML, the secrets files, and the Configuration built from them, every key
 * validated first (all issues at once). Nothing here touches a network; a
 * ConfigError stops the run before any remote command.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Configuration } from '../model/configuration.js';
import { loadRawConfig } from './load.js';
import { FileSecretStore, type CommandRunner, type KamalCommand } from './secrets.js';
import { withoutExtensions } from './validate.js';

export { loadRawConfig, parseConfigText, destinationConfigFile } from './load.js';
export { FileSecretStore, parseDotenv } from './secrets.js';
export { validateConfig, parseConfig, formatIssue } from './validate.js';
export { KAMAL_VERSION, HOOKS_OUTPUT_LEVELS, PROXY_MINIMUM_VERSION, defaultLocalArch } from './constants.js';

export interface LoadConfigOptions {
  configFile?: string;
  destination?: string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** Secrets given from outside the files (action inputs). */
  extraSecrets?: Record<string, string>;
  /** Runs `$(command)` in secrets files (tests). */
  run?: CommandRunner;
  /** The `kamal` that `$(kamal ...)` in secrets files runs (first on the PATH of their shells). */
  kamal?: KamalCommand;
  /** Local Docker architecture for the builder checks. */
  localArch?: string;
  /** The version to deploy (`--version`, `VERSION`). */
  version?: string;
  /** Works the version out the first time it is needed when none was given (the git commit). */
  resolveVersion?: () => string;
}

/**
 * Loads, validates and builds the configuration: the raw files (destination merged, `x-*` keys
 * removed) are `config.rawConfig`, the secrets files `config.secrets` (read when first needed).
 */
/** What loadConfig returns: the Configuration, its secrets read from the secrets files. */
export type LoadedConfig = Configuration & { readonly secrets: FileSecretStore };

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const raw = withoutExtensions(loadRawConfig({ configFile: opts.configFile, destination: opts.destination, cwd: opts.cwd, env: opts.env }));
  const secrets = new FileSecretStore({
    secretsPath: typeof raw.secrets_path === 'string' ? raw.secrets_path : undefined,
    destination: opts.destination,
    cwd: opts.cwd,
    env: opts.env,
    extra: opts.extraSecrets,
    run: opts.run,
    kamal: opts.kamal,
  });
  const config = new Configuration(raw, {
    destination: opts.destination,
    secrets,
    cwd: opts.cwd,
    localArch: opts.localArch,
    fileExists: (p) => existsSync(resolve(opts.cwd, p)),
    version: opts.version,
    resolveVersion: opts.resolveVersion,
  });
  return config as LoadedConfig;
}
