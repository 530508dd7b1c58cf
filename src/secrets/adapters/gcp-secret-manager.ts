/**
 * Kamal's GcpSecretManager adapter (`--adapter gcp`): `gcloud secrets versions access`.
 * `--account` is `USER` or `USER|SERVICE_ACCOUNT[,SERVICE_ACCOUNT...]` (impersonation, a
 * delegation chain); `default` is gcloud's current user. A secret is `NAME`, `PROJECT/NAME` or
 * `PROJECT/NAME/VERSION` (`default` project, `latest` version).
 */
import { isObject, rubyJsonParse, type JsonValue } from './ruby-json.js';
import { noMethodForNil, RubyError, rubySplit, runtimeError, isTruthy } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type AdapterContext, type SecretValues } from './types.js';

function loggedIn(ctx: AdapterContext): boolean {
  const list = rubyJsonParse(ctx.run({ argv: ['gcloud', 'auth', 'list', '--format=json'] }).stdout);
  if (Array.isArray(list)) return list.some(isTruthy);
  if (isObject(list)) return list.size > 0;
  throw new RubyError('NoMethodError', `undefined method 'any?' for ${list === null ? 'nil' : 'an instance of String'}`);
}

interface Where {
  project: string | undefined;
  user: string | undefined;
  serviceAccount: string | undefined;
}

function gcloud(ctx: AdapterContext, words: string[], w: Where): { json: JsonValue; success: boolean } {
  const argv = ['gcloud', ...words];
  if (w.project !== 'default') {
    if (w.project === undefined) throw noMethodForNil('shellescape');
    argv.push(`--project=${w.project}`);
  }
  if (w.user !== 'default') {
    if (w.user === undefined) throw noMethodForNil('shellescape');
    argv.push(`--account=${w.user}`);
  }
  if (w.serviceAccount !== undefined) argv.push(`--impersonate-service-account=${w.serviceAccount}`);
  argv.push('--format=json');
  const r = ctx.run({ argv });
  return { json: rubyJsonParse(r.stdout.trim()), success: r.success };
}

/** `Base64.decode64`: lenient, characters outside the alphabet skipped. */
function decode64(v: JsonValue | undefined): string {
  if (typeof v !== 'string') throw noMethodForNil('unpack1');
  return Buffer.from(v.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('utf8');
}

export const gcpSecretManager: Adapter = {
  name: 'GcpSecretManager',
  requiresAccount: true,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['gcloud', '--version'])) throw runtimeError('gcloud CLI is not installed');
  },

  login(ctx) {
    if (!loggedIn(ctx)) {
      ctx.run({ argv: ['gcloud', 'auth', 'login'] });
      if (!loggedIn(ctx)) throw runtimeError('could not login to gcloud');
    }
    return undefined;
  },

  fetchSecrets(ctx, secrets, { from, account }) {
    const [user, serviceAccount] = rubySplit(account!, '|', 2);
    // one entry per distinct secret, as Kamal keys them by the secret
    const items = new Map<string, [string | undefined, string | undefined, string]>();
    for (const secret of prefixedSecrets(secrets, from)) {
      const parts = rubySplit(secret, '/');
      if (parts.length === 1) parts.unshift('default');
      const [project, name, version] = parts;
      items.set(secret, [project, name, version ?? 'latest']);
    }
    const results: SecretValues = new Map();
    for (const [project, name, version] of items.values()) {
      if (name === undefined) throw noMethodForNil('shellescape');
      const itemName = `${project ?? ''}/${name}`;
      const { json, success } = gcloud(ctx, ['secrets', 'versions', 'access', version, `--secret=${name}`], { project, user, serviceAccount });
      if (json === null) throw noMethodForNil('dig');
      if (Array.isArray(json)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
      if (!isObject(json)) throw new RubyError('NoMethodError', `undefined method 'dig' for an instance of ${typeof json === 'string' ? 'String' : 'Integer'}`);
      const payload = json.get('payload');
      results.set(itemName, decode64(isObject(payload) ? payload.get('data') : undefined));
      if (!success) throw runtimeError(`Could not read ${itemName} from Google Secret Manager`);
    }
    return results;
  },
};
