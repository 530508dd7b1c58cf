/** What an adapter needs from the outside: a way to run the vendor's CLI, and the environment. */
import type { JsonValue } from './ruby-json.js';

/** One run of a vendor CLI, as Kamal runs it with backticks (stdout captured, stdin and stderr the terminal's). */
export interface VendorCall {
  /** The program and the words it receives. */
  argv: string[];
  /** Variables set for this command only (`BW_SESSION=... bw status`). */
  env?: Record<string, string>;
  /** `2> /dev/null`: the command's stderr is thrown away. */
  quiet?: boolean;
}

export interface VendorResult {
  stdout: string;
  /** `$?.success?`: the command ran and exited 0. */
  success: boolean;
}

export type VendorRunner = (call: VendorCall) => VendorResult;

export interface AdapterContext {
  run: VendorRunner;
  /** The environment Kamal reads (DOPPLER_TOKEN). */
  env: Record<string, string | undefined>;
}

export interface FetchOptions {
  account?: string;
  from?: string;
}

/** Secret name (as Kamal keys it) to value, in Kamal's order. */
export type SecretValues = Map<string, JsonValue>;

export interface Adapter {
  /** Kamal's class name (OnePassword, Bitwarden, ...). */
  readonly name: string;
  readonly requiresAccount: boolean;
  checkDependencies(ctx: AdapterContext): void;
  /** Signs in when needed; returns the session to use, if any. */
  login(ctx: AdapterContext, account: string | undefined): string | null | undefined;
  fetchSecrets(ctx: AdapterContext, secrets: string[], o: FetchOptions & { session: string | null | undefined }): SecretValues;
}

/** `[from, secret].compact.join("/")` for each secret. */
export const prefixedSecrets = (secrets: readonly string[], from: string | undefined): string[] =>
  secrets.map((s) => (from === undefined || from === null ? s : `${from}/${s}`));

/** `<cli> --version 2> /dev/null` (or the CLI's own spelling) succeeds. */
export function cliInstalled(ctx: AdapterContext, argv: string[]): boolean {
  return ctx.run({ argv, quiet: true }).success;
}
