/**
 * `kamal secrets fetch`: Kamal 2.12's password-manager adapters. Each runs the vendor's CLI
 * with the arguments Kamal passes, signs in the way Kamal does, and keys the values as
 * Kamal does (`vault/item/field` for 1Password, `item/field` for Bitwarden, ...).
 * The vendor CLIs run through an injected runner; by default through `sh -c` with
 * every word quoted.
 */
import { awsSecretsManager } from './aws-secrets-manager.js';
import { bitwarden } from './bitwarden.js';
import { bitwardenSecretsManager } from './bitwarden-secrets-manager.js';
import { doppler } from './doppler.js';
import { enpass } from './enpass.js';
import { gcpSecretManager } from './gcp-secret-manager.js';
import { lastPass } from './last-pass.js';
import { onePassword } from './one-password.js';
import { passbolt } from './passbolt.js';
import { rubyJsonDump, type JsonValue } from './ruby-json.js';
import { isBlank, runtimeError, shellescape } from './ruby.js';
import { shellVendorRunner } from './runner.js';
import { test } from './test.js';
import type { Adapter, AdapterContext, SecretValues, VendorRunner } from './types.js';

export type { Adapter, AdapterContext, SecretValues, VendorCall, VendorResult, VendorRunner } from './types.js';
export { renderVendorCall, shellVendorRunner } from './runner.js';
export { RubyError } from './ruby.js';
export { rubyJsonDump, rubyJsonParse, RubyFloat, type JsonValue, type JsonObject } from './ruby-json.js';

const ADAPTERS: readonly Adapter[] = [
  onePassword,
  bitwarden,
  bitwardenSecretsManager,
  awsSecretsManager,
  gcpSecretManager,
  lastPass,
  doppler,
  enpass,
  passbolt,
  test,
];

const capitalize = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s);

/** ActiveSupport's `String#camelize` (no acronyms defined). */
export function camelize(term: string): string {
  let s = term.replace(/^[a-z\d]*/, (m) => capitalize(m));
  s = s.replace(/(?:_|(\/))([a-z\d]*)/gi, (_m, slash: string | undefined, word: string) => `${slash ?? ''}${capitalize(word)}`);
  return s.replaceAll('/', '::');
}

/**
 * `Kamal::Secrets::Adapters.lookup`: `1password`, `lastpass`, `gcp` and `bitwarden-sm` are
 * aliases; any other name is camelized to a class name (`aws_secrets_manager`, `doppler`,
 * `Passbolt`, ...). An unknown one raises `Unknown secrets adapter: NAME`.
 */
export function lookupAdapter(name: string): Adapter {
  const lower = name.toLowerCase();
  let n = name;
  if (lower === '1password') n = 'one_password';
  if (lower === 'lastpass') n = 'last_pass';
  if (lower === 'gcp') n = 'gcp_secret_manager';
  if (lower === 'bitwarden-sm') n = 'bitwarden_secrets_manager';
  const cls = camelize(n);
  const adapter = ADAPTERS.find((a) => a.name === cls);
  if (!adapter) throw runtimeError(`Unknown secrets adapter: ${n}`);
  return adapter;
}

export interface FetchSecretsOptions {
  adapter: string;
  account?: string;
  from?: string;
  names: string[];
  env: Record<string, string | undefined>;
  /** Runs the vendor CLIs. Default: through `sh -c`, in `cwd`, with `env`. */
  run?: VendorRunner;
  cwd?: string;
  /** Let a sign-in read the terminal (default true); false gives the vendor CLI /dev/null as stdin. */
  interactive?: boolean;
}

/** `Adapter#fetch`: account check, CLI check, sign-in, then the values, in Kamal's order. */
export function fetchSecretValues(opts: FetchSecretsOptions): SecretValues {
  const adapter = lookupAdapter(opts.adapter);
  if (adapter.requiresAccount && isBlank(opts.account)) throw runtimeError("Missing required option '--account'");
  const ctx: AdapterContext = {
    env: opts.env,
    run: opts.run ?? shellVendorRunner({ env: opts.env, cwd: opts.cwd, interactive: opts.interactive }),
  };
  adapter.checkDependencies(ctx);
  const session = adapter.login(ctx, opts.account);
  return adapter.fetchSecrets(ctx, opts.names, { account: opts.account, from: opts.from, session });
}

/** The fetched values as a plain object (key order aside, what `kamal secrets fetch` prints as JSON). */
export function fetchSecrets(opts: FetchSecretsOptions): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  for (const [k, v] of fetchSecretValues(opts)) out[k] = v;
  return out;
}

/** What `kamal secrets fetch` prints: `JSON.dump` of the values (no newline). */
export function fetchSecretsJson(opts: FetchSecretsOptions): string {
  return rubyJsonDump(fetchSecretValues(opts));
}

/**
 * What `kamal secrets fetch ... --inline` returns, as Kamal substitutes it for
 * `$(kamal secrets fetch ...)` in `.kamal/secrets`: the JSON, shell-escaped.
 */
export function fetchSecretsInline(opts: FetchSecretsOptions): string {
  return shellescape(fetchSecretsJson(opts));
}
