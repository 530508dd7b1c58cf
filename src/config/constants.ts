/**
 * Kamal 2.12's constants, in one place: the configuration, the model, the commands and the engine
 * read them from here.
 */

/** The Kamal release whose configuration format and behaviour this follows (`minimum_version` is checked against it). */
export const KAMAL_VERSION = '2.12.0';

/** Kamal's top-level commands; aliases may not take these names. */
export const KAMAL_BUILTIN_COMMANDS: readonly string[] = [
  'setup',
  'deploy',
  'redeploy',
  'rollback',
  'details',
  'audit',
  'config',
  'docs',
  'init',
  'remove',
  'upgrade',
  'version',
  'accessory',
  'app',
  'build',
  'lock',
  'proxy',
  'prune',
  'registry',
  'secrets',
  'server',
];

/** The levels `hooks_output` takes (Kamal::Configuration::HOOKS_OUTPUT_LEVELS). */
export const HOOKS_OUTPUT_LEVELS = ['quiet', 'verbose'] as const;
export type HooksOutputLevel = (typeof HOOKS_OUTPUT_LEVELS)[number];

/** The oldest kamal-proxy this Kamal works with (Kamal::Configuration::Proxy::Run::MINIMUM_VERSION). */
export const PROXY_MINIMUM_VERSION = 'v0.9.2';

/** This machine's Docker architecture (`amd64`, `arm64`, ...), which decides what a remote builder builds. */
export function defaultLocalArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}
