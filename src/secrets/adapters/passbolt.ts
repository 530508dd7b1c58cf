/**
 * Kamal's Passbolt adapter (`--adapter passbolt`): `passbolt list resources` with a filter on the
 * names, narrowed to folders (and nested folders) named by `FOLDER/.../NAME` or `--from`.
 * The filter text is Kamal's, word for word: each name and folder id shell-escaped, then
 * Ruby-inspected (`Name == "SECRET1"`).
 */
import { isObject, rubyJsonParse, type JsonObject, type JsonValue } from './ruby-json.js';
import { inspectStrings, noMethodForNil, RubyError, rubyInspect, rubySplit, runtimeError, shellescape } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type AdapterContext, type SecretValues } from './types.js';

type Folder = JsonObject;

const quoted = (s: string): string => rubyInspect(shellescape(s));
const str = (v: JsonValue | undefined): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v));

function idOf(folder: Folder): string {
  const id = folder.get('id');
  if (id === undefined || id === null) throw noMethodForNil('shellescape');
  if (typeof id !== 'string') throw new RubyError('NoMethodError', `undefined method 'shellescape' for an instance of Integer`);
  return id;
}

function folderPath(folder: Folder, all: Folder[], path: string[] = [], depth = 0): string {
  path.unshift(str(folder.get('name')));
  const parentId = folder.get('folder_parent_id');
  if (str(parentId) === '') return path.join('/');
  const parent = all.find((f) => f.get('id') === parentId);
  if (!parent) return path.join('/');
  if (depth > all.length) throw new RubyError('SystemStackError', 'stack level too deep');
  return folderPath(parent, all, path, depth + 1);
}

function listFolders(ctx: AdapterContext, filter: string): { folders: Folder[]; success: boolean } {
  const r = ctx.run({ argv: ['passbolt', 'list', 'folders', '--filter', filter, '--json'] });
  if (!r.success) return { folders: [], success: false };
  const json = rubyJsonParse(r.stdout);
  if (!Array.isArray(json)) throw new RubyError('TypeError', 'no implicit conversion of Hash into Array');
  return { folders: json.filter(isObject), success: true };
}

function secretsGetFolders(ctx: AdapterContext, secrets: string[]): Folder[] {
  const seen = new Set<string>();
  const folderPaths: string[][] = [];
  for (const s of secrets) {
    if (!s.includes('/')) continue;
    const path = rubySplit(s, '/').slice(0, -1);
    const k = JSON.stringify(path);
    if (!seen.has(k)) {
      seen.add(k);
      folderPaths.push(path);
    }
  }
  if (folderPaths.length === 0) return [];

  const parents = [...new Set(folderPaths.map((p) => p[0]))];
  const top = listFolders(ctx, parents.map((name) => `Name == ${quoted(name ?? '')}`).join(' || '));
  if (!top.success) throw runtimeError('Could not read folders from Passbolt');
  const all = [...top.folders];

  for (const path of folderPaths) {
    if (path.length <= 1) continue;
    let current = top.folders.find((f) => f.get('name') === path[0]);
    if (!current) continue;
    for (const name of path.slice(1)) {
      const nested = listFolders(ctx, `Name == ${quoted(name)} && FolderParentID == ${quoted(idOf(current))}`);
      if (!nested.success) continue;
      if (nested.folders.length === 0) break;
      all.push(...nested.folders);
      current = nested.folders[0]!;
    }
  }

  const found = new Set(all.map((f) => folderPath(f, all)));
  const missing = folderPaths.map((p) => p.join('/')).filter((p) => !found.has(p));
  if (missing.length > 0) throw runtimeError(`Could not find the following folders in Passbolt: ${missing.join(', ')}`);
  return all;
}

export const passbolt: Adapter = {
  name: 'Passbolt',
  requiresAccount: false,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['passbolt', '--version'])) throw runtimeError('Passbolt CLI is not installed');
  },

  login(ctx) {
    if (!ctx.run({ argv: ['passbolt', 'verify'] }).success) throw runtimeError('Failed to login to Passbolt');
    return undefined;
  },

  fetchSecrets(ctx, names, { from }) {
    const secrets = prefixedSecrets(names, from);
    if (secrets.length === 0) throw new RubyError('ArgumentError', 'No secrets given to fetch');
    const secretNames = secrets.map((s) => rubySplit(s, '/').at(-1));
    const folders = secretsGetFolders(ctx, secrets);

    const conditions: string[] = [];
    for (const secret of secrets) {
      const parts = rubySplit(secret, '/');
      const name = parts.at(-1);
      if (name === undefined) throw noMethodForNil('shellescape');
      if (parts.length > 1) {
        let current: Folder | undefined;
        const path: string[] = [];
        for (const folder of parts.slice(0, -1)) {
          path.push(folder);
          const match = folders.find((f) => folderPath(f, folders) === path.join('/'));
          if (match) current = match;
        }
        if (current) conditions.push(`(Name == ${quoted(name)} && FolderParentID == ${quoted(idOf(current))})`);
      } else {
        conditions.push(`Name == ${quoted(name)}`);
      }
    }

    const argv = ['passbolt', 'list', 'resources'];
    if (conditions.length > 0) argv.push('--filter', conditions.join(' || '));
    for (const f of folders) argv.push('--folder', str(f.get('id')));
    argv.push('--column', 'name', '--column', 'password', '--json');
    const r = ctx.run({ argv });
    if (!r.success) throw runtimeError(`Could not read ${inspectStrings(secrets)} from Passbolt`);
    const items = rubyJsonParse(r.stdout);
    if (!Array.isArray(items)) throw new RubyError('NoMethodError', `undefined method 'map' for ${items === null ? 'nil' : 'an instance of String'}`);
    const objects = items.map((i) => {
      if (!isObject(i)) throw new RubyError('TypeError', 'no implicit conversion of String into Integer');
      return i;
    });
    const found = new Set(objects.map((i) => i.get('name')));
    const missing = secretNames.filter((n) => !found.has(n ?? null));
    if (missing.length > 0) throw runtimeError(`Could not find the following secrets in Passbolt: ${missing.map((m) => m ?? '').join(', ')}`);
    const results: SecretValues = new Map();
    for (const i of objects) {
      const password = i.get('password');
      results.set(str(i.get('name')), password === undefined ? null : password);
    }
    return results;
  },
};
