/** Kamal's Bitwarden adapter (`--adapter bitwarden`): the `bw` CLI. */
import { isObject, rubyJsonParse, type JsonObject, type JsonValue } from './ruby-json.js';
import { isBlank, noMethodForNil, RubyError, rubySplit, runtimeError, isTruthy } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type AdapterContext, type SecretValues } from './types.js';

interface Result {
  text: string;
  success: boolean;
}

/** `[BW_SESSION=<session>] bw <words>`, output stripped. */
function bw(ctx: AdapterContext, words: string[], session?: string | null): Result {
  const r = ctx.run({ argv: ['bw', ...words], ...(isTruthy(session) ? { env: { BW_SESSION: session! } } : {}) });
  return { text: r.stdout.trim(), success: r.success };
}

/** `hash["key"]` on what `JSON.parse` gave. */
function index(v: JsonValue, key: string): JsonValue | undefined {
  if (isObject(v)) return v.get(key);
  if (v === null) throw noMethodForNil('[]');
  if (Array.isArray(v)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
  if (typeof v === 'string') return v.includes(key) ? key : undefined;
  throw new RubyError('NoMethodError', `undefined method '[]' for ${typeof v === 'boolean' ? String(v) : 'an instance of Float'}`);
}

const status = (ctx: AdapterContext, session?: string | null): JsonValue | undefined => index(rubyJsonParse(bw(ctx, ['status'], session).text), 'status');

function itemsFields(secrets: string[]): Map<string | undefined, (string | undefined)[]> {
  const items = new Map<string | undefined, (string | undefined)[]>();
  for (const secret of secrets) {
    const [item, field] = rubySplit(secret, '/');
    if (!items.has(item)) items.set(item, []);
    items.get(item)!.push(field);
  }
  return items;
}

function fromFields(fields: (string | undefined)[], item: string, json: JsonObject, into: SecretValues): void {
  const list = json.get('fields');
  for (const field of fields) {
    if (!Array.isArray(list)) throw noMethodForNil('find');
    const found = list.find((f) => isObject(f) && f.get('name') === (field ?? null));
    if (!found || !isObject(found)) throw runtimeError(`Could not find field ${field ?? ''} in item ${item} in Bitwarden`);
    const value = found.get('value');
    into.set(`${item}/${field ?? ''}`, value === undefined ? null : value);
  }
}

export const bitwarden: Adapter = {
  name: 'Bitwarden',
  requiresAccount: true,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['bw', '--version'])) throw runtimeError('Bitwarden CLI is not installed');
  },

  login(ctx, account) {
    let current = status(ctx);
    if (current === 'unauthenticated') {
      bw(ctx, ['login', account!]);
      current = status(ctx);
    }
    let session: string | null = null;
    if (current === 'locked') {
      const unlocked = bw(ctx, ['unlock', '--raw']).text;
      session = isBlank(unlocked) ? null : unlocked;
      current = status(ctx, session);
    }
    if (current !== 'unlocked') throw runtimeError('Failed to login to and unlock Bitwarden');
    if (!bw(ctx, ['sync'], session).success) throw runtimeError('Failed to sync Bitwarden');
    return session;
  },

  fetchSecrets(ctx, secrets, { from, session }) {
    const results: SecretValues = new Map();
    for (const [item, fields] of itemsFields(prefixedSecrets(secrets, from))) {
      if (item === undefined) throw noMethodForNil('shellescape');
      const r = bw(ctx, ['get', 'item', item], session);
      if (!r.success) throw runtimeError(`Could not read ${item} from Bitwarden`);
      const json = rubyJsonParse(r.text);
      if (!isObject(json)) throw new RubyError('NoMethodError', `undefined method 'dig' for ${json === null ? 'nil' : 'an instance of Array'}`);
      const login = json.get('login');
      const password = isObject(login) ? login.get('password') : undefined;
      const listed = json.get('fields');
      if (fields.some((f) => f !== undefined)) fromFields(fields, item, json, results);
      else if (isTruthy(password)) results.set(item, password!);
      else if (Array.isArray(listed) && listed.length > 0) {
        const names = listed.map((f) => (isObject(f) ? f.get('name') : undefined));
        fromFields(
          names.map((n) => (typeof n === 'string' ? n : undefined)),
          item,
          json,
          results,
        );
      } else throw runtimeError(`Item ${item} is not a login type item and no fields were specified`);
    }
    return results;
  },
};
