/**
 * Loading a deploy configuration end to end: files (with destination), ERB,
 * YAML, validation of every key (all issues at once), and the secrets files.
 * Nothing here touches a network; a ConfigError stops the run before any
 * remote command.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadRawConfig } from './load.js';
import { FileSecretStore, type CommandRunner, type KamalCommand } from './secrets.js';
import { validateConfig, withoutExtensions } from './validate.js';

export { loadRawConfig, parseConfigText, destinationConfigFile } from './load.js';
export { FileSecretStore, parseDotenv } from './secrets.js';
export { validateConfig, parseConfig, formatIssue, KAMAL_VERSION } from './validate.js';

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
}

export interface LoadedConfig {
  /** The validated configuration, destination merged, `x-*` keys removed. */
  raw: Record<string, unknown>;
  secrets: FileSecretStore;
}

export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const raw = loadRawConfig({ configFile: opts.configFile, destination: opts.destination, cwd: opts.cwd, env: opts.env });
  const issues = validateConfig(raw, {
    destination: opts.destination ?? null,
    localArch: opts.localArch,
    fileExists: (p) => existsSync(resolve(opts.cwd, p)),
  });
  if (issues.length > 0) throw new ConfigError(issues);
  const secretsPath = typeof raw.secrets_path === 'string' ? raw.secrets_path : undefined;
  const secrets = new FileSecretStore({
    secretsPath,
    destination: opts.destination,
    cwd: opts.cwd,
    env: opts.env,
    extra: opts.extraSecrets,
    run: opts.run,
    kamal: opts.kamal,
  });
  return { raw: withoutExtensions(raw), secrets };
}
