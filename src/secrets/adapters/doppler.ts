/** Kamal's Doppler adapter (`--adapter doppler`): `doppler secrets get`. */
import { isObject, rubyJsonParse } from './ruby-json.js';
import { inspectStrings, noMethodForNil, RubyError, rubySplit, runtimeError } from './ruby.js';
import { cliInstalled, prefixedSecrets, type Adapter, type SecretValues } from './types.js';

export const doppler: Adapter = {
  name: 'Doppler',
  requiresAccount: false,

  checkDependencies(ctx) {
    if (!cliInstalled(ctx, ['doppler', '--version'])) throw runtimeError('Doppler CLI is not installed');
  },

  login(ctx) {
    if (!ctx.run({ argv: ['doppler', 'me', '--json'], quiet: true }).success) {
      if (!ctx.run({ argv: ['doppler', 'login', '-y'] }).success) throw runtimeError('Failed to login to Doppler');
    }
    return undefined;
  },

  fetchSecrets(ctx, names, { from }) {
    const secrets = prefixedSecrets(names, from);
    // a service token (dp.st...) is bound to one project and config; otherwise they come from the first secret
    const token = ctx.env.DOPPLER_TOKEN;
    const flags: string[] = [];
    if (!(token !== undefined && token.slice(0, 5) === 'dp.st')) {
      if (secrets.length === 0) throw noMethodForNil('split');
      const [project, config] = rubySplit(secrets[0]!, '/');
      if (project === undefined || config === undefined) throw runtimeError("Missing project or config from '--from=project/config' option");
      flags.push('-p', project, '-c', config);
    }
    const secretNames = secrets.map((s) => {
      const last = rubySplit(s, '/').at(-1);
      if (last === undefined) throw noMethodForNil('shellescape');
      return last;
    });
    const r = ctx.run({ argv: ['doppler', 'secrets', 'get', ...secretNames, '--json', ...flags] });
    if (!r.success) throw runtimeError(`Could not read ${inspectStrings(secrets)} from Doppler`);
    const items = rubyJsonParse(r.stdout);
    if (!isObject(items)) throw new RubyError('NoMethodError', `undefined method 'transform_values' for ${items === null ? 'nil' : 'an instance of Array'}`);
    const results: SecretValues = new Map();
    for (const [k, v] of items) {
      if (v === null) throw noMethodForNil('[]');
      const computed = isObject(v) ? v.get('computed') : undefined;
      results.set(k, computed === undefined ? null : computed);
    }
    return results;
  },
};
