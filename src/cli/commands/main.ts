/** The top-level commands (Kamal::Cli::Main): setup, deploy, redeploy, rollback, details, audit, diff, remove, upgrade, config, init, docs, version. */
import { UsageError } from '../../errors.js';
import * as accessory from '../../engine/accessory.js';
import * as app from '../../engine/app-commands.js';
import { diffText } from '../../engine/diff-format.js';
import { diff } from '../../engine/diff-gather.js';
import * as main from '../../engine/main.js';
import * as proxy from '../../engine/proxy.js';
import { deployVerified } from '../../engine/verify.js';
import { KAMAL_ACTION_VERSION, KAMAL_COMPAT_VERSION } from '../../version.js';
import { docsText } from '../docs.js';
import { init, printConfig } from '../local-commands.js';
import { addVerifyFlags, verifyOptionsFrom } from '../verify-flags.js';
import { CONFIRMED, NO_CACHE, SKIP_PUSH, type CommandOptions, type CommandSpec } from './table.js';

const deployOptions = (options: CommandOptions) => ({ skipPush: !!options.skipPush, noCache: options.cache === false });

export const mainCommands: readonly CommandSpec[] = [
  {
    name: 'setup',
    description: 'Setup all accessories, push the env, and deploy app to servers',
    options: [SKIP_PUSH, NO_CACHE],
    run: (kamal, options) => main.setup(kamal, deployOptions(options)),
  },
  {
    name: 'deploy',
    description: 'Deploy app to servers',
    options: [SKIP_PUSH, NO_CACHE],
    addFlags: addVerifyFlags,
    run: (kamal, options) => deployVerified(kamal, () => main.deploy(kamal, deployOptions(options)), verifyOptionsFrom(options)),
  },
  {
    name: 'redeploy',
    description: 'Deploy app to servers without bootstrapping servers, starting kamal-proxy and pruning',
    options: [SKIP_PUSH, NO_CACHE],
    addFlags: addVerifyFlags,
    run: (kamal, options) => deployVerified(kamal, () => main.redeploy(kamal, deployOptions(options)), verifyOptionsFrom(options)),
  },
  {
    name: 'rollback',
    description: 'Rollback app to VERSION',
    arguments: [{ name: '<version>' }],
    run: (kamal, _options, args) => main.rollback(kamal, args[0]!),
  },
  {
    name: 'details',
    description: 'Show details about all containers',
    run: async (kamal) => {
      await proxy.proxyDetails(kamal);
      await app.appDetails(kamal);
      await accessory.accessoryDetails(kamal, 'all');
    },
  },
  { name: 'audit', description: 'Show audit log from servers', run: (kamal) => main.audit(kamal) },
  {
    name: 'diff',
    description: 'Show what a deploy of the version would change on the servers (reads only)',
    options: [{ flags: '--json', description: 'Print the report as JSON' }],
    run: async (kamal, options) => {
      const report = await diff(kamal);
      kamal.reporter.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : diffText(report));
    },
  },
  {
    name: 'remove',
    description: 'Remove kamal-proxy, app, accessories, and registry session from servers',
    options: [CONFIRMED],
    run: (kamal) => app.removeEverything(kamal),
  },
  {
    name: 'upgrade',
    description: 'Upgrade from Kamal 1.x to 2.0',
    options: [CONFIRMED, { flags: '--rolling', description: 'Upgrade one host at a time' }],
    run: (kamal, options) => main.upgrade(kamal, { rolling: !!options.rolling }),
  },
  { name: 'config', description: 'Show combined config (secrets redacted)', run: async (kamal) => printConfig(kamal) },
  {
    name: 'init',
    description: 'Create config stub in config/deploy.yml and secrets stub in .kamal',
    options: [{ flags: '--bundle', description: "Kamal's: add the kamal gem to the Gemfile (refused: kamal-action is not a gem)" }],
    check: (options) => {
      if (options.bundle) {
        throw new UsageError(
          'init --bundle adds the kamal gem to a Gemfile and a bin/kamal binstub; kamal-action is not a Ruby gem. ' +
            'Run `kamal-action init` without --bundle (in a workflow, use the action; from a terminal, run bin/kamal-action)',
        );
      }
    },
    local: (io) => init(io),
  },
  {
    name: 'docs',
    description: 'Show configuration documentation (a summary of each section and a link to its page)',
    arguments: [{ name: '[section]' }],
    local: async (io, _options, args) => io.out(docsText(args[0]).text),
  },
  {
    name: 'version',
    description: 'Show version',
    local: async (io) => io.out(`${KAMAL_ACTION_VERSION} (compatible with Kamal ${KAMAL_COMPAT_VERSION})\n`),
  },
];
