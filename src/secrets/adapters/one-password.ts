/** Kamal's OnePassword adapter (`--adapter 1password`): the `op` CLI. */
import { isObject, rubyJsonParse, type JsonValue } from './ruby-json.js';
import { escapedShellValue, isBlank, noMethodForNil, RubyError, rubySplit, runtimeError } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type AdapterContext, type SecretValues } from './types.js';

/** `op://vault/item/field` to vault → item → [fields], in order; an item without a field reads `password`. */
function vaultsItemsFields(secrets: string[]): Map<string | undefined, Map<string | undefined, string[]>> {
  const vaults = new Map<string | undefined, Map<string | undefined, string[]>>();
  for (const secret of secrets) {
    const [vault, item, ...fields] = rubySplit(deletePrefix(secret, 'op://'), '/');
    if (fields.length === 0) fields.push('password');
    if (!vaults.has(vault)) vaults.set(vault, new Map());
    const items = vaults.get(vault)!;
    if (!items.has(item)) items.set(item, []);
    items.get(item)!.push(fields.join('.'));
  }
  return vaults;
}

const deletePrefix = (s: string, p: string): string => (s.startsWith(p) ? s.slice(p.length) : s);
const deleteSuffix = (s: string, p: string): string => (s.endsWith(p) ? s.slice(0, s.length - p.length) : s);

/** `reference` (`op://vault/item/section/field`) without `op://` and a trailing `/password`, to the value. */
function fieldsMap(fieldsJson: JsonValue, into: SecretValues): void {
  const list = Array.isArray(fieldsJson) ? fieldsJson : isObject(fieldsJson) ? [...fieldsJson].map(([k, v]) => [k, v] as JsonValue) : null;
  if (!list) throw new RubyError('NoMethodError', `undefined method 'to_h' for ${fieldsJson === null ? 'nil' : 'an instance of ' + rubyClassName(fieldsJson)}`);
  for (const field of list) {
    const reference = isObject(field) ? field.get('reference') : undefined;
    if (typeof reference !== 'string') throw noMethodForNil('delete_prefix');
    const value = isObject(field) ? field.get('value') : undefined;
    into.set(deleteSuffix(deletePrefix(reference, 'op://'), '/password'), value === undefined ? null : value);
  }
}

function rubyClassName(v: JsonValue): string {
  if (typeof v === 'string') return 'String';
  if (typeof v === 'boolean') return v ? 'TrueClass' : 'FalseClass';
  if (typeof v === 'number' || typeof v === 'bigint') return 'Integer';
  return 'Float';
}

function opItemGet(
  ctx: AdapterContext,
  vault: string | undefined,
  item: string | undefined,
  o: { fields?: string[]; account: string; session: string | null | undefined },
): string {
  if (item === undefined) throw noMethodForNil('shellescape');
  const options: [string, string][] = [];
  if (vault !== undefined) options.push(['vault', vault]);
  options.push(['format', 'json'], ['account', o.account]);
  if (!isBlank(o.session)) options.push(['session', o.session!]);
  if (o.fields && o.fields.length > 0) options.push(['fields', o.fields.map((f) => `label=${f}`).join(',')]);
  const r = ctx.run({ argv: ['op', 'item', 'get', item, ...options.flatMap(([k, v]) => [`--${k}`, escapedShellValue(v)])] });
  if (!r.success) {
    const fields = o.fields && o.fields.length > 0 ? `${o.fields.join(', ')} ` : '';
    throw runtimeError(`Could not read ${fields}from ${item} in the ${vault ?? ''} 1Password vault`);
  }
  return r.stdout;
}

export const onePassword: Adapter = {
  name: 'OnePassword',
  requiresAccount: true,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['op', '--version'])) throw runtimeError('1Password CLI is not installed');
  },

  login(ctx, account) {
    if (ctx.run({ argv: ['op', 'account', 'get', '--account', account!], quiet: true }).success) return undefined;
    const r = ctx.run({ argv: ['op', 'signin', '--account', escapedShellValue(account!), '--force', '--raw'] });
    if (!r.success) throw runtimeError('Failed to login to 1Password');
    return r.stdout;
  },

  fetchSecrets(ctx, secrets, { from, account, session }) {
    const results: SecretValues = new Map();
    if (secrets.length === 0) {
      // every field of the item named by --from
      if (from === undefined) throw noMethodForNil('delete_prefix');
      const [vault, item] = rubySplit(deletePrefix(from, 'op://'), '/');
      const json = rubyJsonParse(opItemGet(ctx, vault, item, { account: account!, session }));
      if (!isObject(json)) throw new RubyError('NoMethodError', `undefined method 'fetch' for ${json === null ? 'nil' : 'an instance of Array'}`);
      if (!json.has('fields')) throw new RubyError('KeyError', 'key not found: "fields"');
      fieldsMap(json.get('fields')!, results);
      return results;
    }
    for (const [vault, items] of vaultsItemsFields(prefixedSecrets(secrets, from))) {
      for (const [item, fields] of items) {
        let json = rubyJsonParse(opItemGet(ctx, vault, item, { fields, account: account!, session }));
        if (fields.length === 1) json = [json];
        fieldsMap(json, results);
      }
    }
    return results;
  },
};
