/** The command tree, mirroring Kamal's (`kamal deploy`, `kamal app boot`, ...). */
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../errors.js';
import type { Kamal } from '../engine/kamal.js';
import * as main from '../engine/main.js';
import * as prune from '../engine/prune.js';
import * as registry from '../engine/registry.js';
import * as server from '../engine/server.js';
import * as app from '../engine/app-commands.js';
import { undoBoots } from '../engine/app.js';
import { parsePendingUndo } from '../engine/cancel.js';
import * as proxy from '../engine/proxy.js';
import * as acc from '../engine/accessory.js';
import * as build from '../engine/build.js';
import * as lock from '../engine/lock-commands.js';
import { proxyBootConfig } from '../engine/proxy-boot-config.js';
import { PlanRunner } from '../exec/plan-runner.js';
import { validateCliValues, type ContextDeps, type ContextOptions } from './context.js';
import { printConfig, init } from './local-commands.js';
import { docsText } from './docs.js';
import { addPlanHelp, showGlobalOptionsInHelp } from './help.js';
import { secretsExtract, secretsFetch, secretsPrintLines } from '../secrets/cli.js';
import type { VendorRunner } from '../secrets/adapters/index.js';
import { KAMAL_ACTION_VERSION, KAMAL_COMPAT_VERSION } from '../version.js';
import { diff as diffRun } from '../engine/diff-gather.js';
import { diffText } from '../engine/diff-format.js';
import { deployVerified } from '../engine/verify.js';
import { addVerifyFlags, verifyOptionsFrom } from './verify-flags.js';

export interface CliIO extends Omit<ContextDeps, 'reporter'> {
  out: (text: string) => void;
  err: (text: string) => void;
  reporter: ContextDeps['reporter'];
}

interface Invocation {
  /** The operation to run with a context. */
  run: (k: Kamal) => Promise<unknown>;
  command: string;
  subcommand?: string;
  opts: ContextOptions;
  /** Does not need a configuration (version, init). */
  local?: (io: CliIO) => Promise<void>;
}

/** A boolean option's optional value as Thor reads it (`--debug true`, `--publish false`). */
const thorBoolean = (name: string) => (v: string): boolean => {
  if (['true', 'TRUE', 't', 'T'].includes(v)) return true;
  if (['false', 'FALSE', 'f', 'F'].includes(v)) return false;
  throw new UsageError(`--${name} expects true or false, got '${v}'`);
};

const int = (name: string) => (v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} expects a whole number, got '${v}'`);
  return Number(v);
};

function globalOptions(c: Command): Command {
  return c
    .option('-v, --verbose', 'Detailed logging')
    .option('-q, --quiet', 'Minimal logging')
    .option('--version <version>', 'Run commands against a specific app version')
    .option('-p, --primary', 'Run commands only on primary host instead of all')
    .option('-h, --hosts <hosts>', 'Run commands on these hosts instead of all (separate by comma, supports wildcards with *)')
    .option('-r, --roles <roles>', 'Run commands on these roles instead of all (separate by comma, supports wildcards with *)')
    .option('-c, --config-file <file>', 'Path to config file (default: KAMAL_ACTION_CONFIG_FILE, else "config/deploy.yml")')
    .option('-d, --destination <destination>', 'Specify destination to be used for config file (staging -> deploy.staging.yml; default: KAMAL_ACTION_DESTINATION)')
    .option('-H, --skip-hooks', "Don't run hooks")
    .option('--lock-wait', "Wait for the deploy lock if it's already held instead of failing immediately")
    .option('--lock-wait-timeout <seconds>', 'Maximum seconds to wait for the deploy lock', int('lock-wait-timeout'), 900)
    .option('--lock-wait-interval <seconds>', 'Seconds between deploy lock polls', int('lock-wait-interval'), 15)
    .option('--dry-run', 'Print the commands that would run, without connecting anywhere')
    .option('--all-or-nothing', 'When a host fails, put the previous version back on the hosts already switched')
    .addOption(new Option('--host-key-checking <mode>', 'SSH host key checking').choices(['strict', 'accept-new', 'off']))
    .option('--known-hosts <file>', 'known_hosts file to check host keys against');
}

/** Builds the program. `capture` receives the chosen invocation instead of running it. */
export function buildProgram(capture: (inv: Invocation) => void): Command {
  const program = new Command('kamal-action')
    .description('Deploy web apps anywhere, Kamal-compatible, from GitHub Actions or a terminal')
    .helpOption('--help', 'Show help')
    .addHelpCommand('help [command]', 'Show help for a command')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  globalOptions(program);
  showGlobalOptionsInHelp(program);

  const on = (
    cmd: Command,
    command: string,
    subcommand: string | undefined,
    fn: (k: Kamal, opts: Record<string, unknown>, args: string[]) => Promise<unknown>,
  ): Command =>
    cmd.action((...params: unknown[]) => {
      const c = params[params.length - 1] as Command;
      const args = c.args;
      const all = c.optsWithGlobals() as Record<string, unknown> & ContextOptions;
      capture({
        command,
        subcommand,
        opts: normalize(all),
        run: (k) => fn(k, all, args),
      });
    });

  const sub = (parent: Command, name: string, desc: string): Command => {
    const c = parent.command(name).description(desc).helpOption('--help', 'Show help');
    return c;
  };

  // ---- main ----
  on(
    sub(program, 'setup', 'Setup all accessories, push the env, and deploy app to servers')
      .option('-P, --skip-push', 'Skip image build and push')
      .option('--no-cache', "Build without using Docker's build cache"),
    'setup',
    undefined,
    (k, o) => main.setup(k, { skipPush: !!o.skipPush, noCache: o.cache === false }),
  );
  on(
    addVerifyFlags(
      sub(program, 'deploy', 'Deploy app to servers')
        .option('-P, --skip-push', 'Skip image build and push')
        .option('--no-cache', "Build without using Docker's build cache"),
    ),
    'deploy',
    undefined,
    (k, o) => deployVerified(k, () => main.deploy(k, { skipPush: !!o.skipPush, noCache: o.cache === false }), verifyOptionsFrom(o)),
  );
  on(
    addVerifyFlags(
      sub(program, 'redeploy', 'Deploy app to servers without bootstrapping servers, starting kamal-proxy and pruning')
        .option('-P, --skip-push', 'Skip image build and push')
        .option('--no-cache', "Build without using Docker's build cache"),
    ),
    'redeploy',
    undefined,
    (k, o) => deployVerified(k, () => main.redeploy(k, { skipPush: !!o.skipPush, noCache: o.cache === false }), verifyOptionsFrom(o)),
  );
  on(sub(program, 'rollback', 'Rollback app to VERSION').argument('<version>'), 'rollback', undefined, (k, _o, a) =>
    main.rollback(k, a[0]!),
  );
  on(sub(program, 'details', 'Show details about all containers'), 'details', undefined, async (k) => {
    await proxy.proxyDetails(k);
    await app.appDetails(k);
    await acc.accessoryDetails(k, 'all');
  });
  on(sub(program, 'audit', 'Show audit log from servers'), 'audit', undefined, (k) => main.audit(k));
  on(
    sub(program, 'diff', 'Show what a deploy of the version would change on the servers (reads only)').option('--json', 'Print the report as JSON'),
    'diff',
    undefined,
    async (k, o) => {
      const report = await diffRun(k);
      k.reporter.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : diffText(report));
    },
  );
  on(
    sub(program, 'remove', 'Remove kamal-proxy, app, accessories, and registry session from servers').option(
      '-y, --confirmed',
      'Proceed without confirmation question',
    ),
    'remove',
    undefined,
    (k) => app.removeEverything(k),
  );
  on(
    sub(program, 'upgrade', 'Upgrade from Kamal 1.x to 2.0')
      .option('-y, --confirmed', 'Proceed without confirmation question')
      .option('--rolling', 'Upgrade one host at a time'),
    'upgrade',
    undefined,
    (k, o) => main.upgrade(k, { rolling: !!o.rolling }),
  );
  program
    .command('config')
    .description('Show combined config (secrets redacted)')
    .helpOption('--help', 'Show help')
    .action((_o, c: Command) => {
      const all = normalize(c.optsWithGlobals());
      capture({ command: 'config', opts: all, run: async (k) => printConfig(k) });
    });
  program
    .command('init')
    .description('Create config stub in config/deploy.yml and secrets stub in .kamal')
    .helpOption('--help', 'Show help')
    .option('--bundle', "Kamal's: add the kamal gem to the Gemfile (refused: kamal-action is not a gem)")
    .action((o: { bundle?: boolean }, c: Command) => {
      if (o.bundle) {
        throw new UsageError(
          'init --bundle adds the kamal gem to a Gemfile and a bin/kamal binstub; kamal-action is not a Ruby gem. ' +
            'Run `kamal-action init` without --bundle (in a workflow, use the action; from a terminal, run bin/kamal-action)',
        );
      }
      capture({ command: 'init', opts: normalize(c.optsWithGlobals()), run: async () => undefined, local: (io) => init(io) });
    });
  program
    .command('docs')
    .description('Show configuration documentation (a summary of each section and a link to its page)')
    .helpOption('--help', 'Show help')
    .argument('[section]')
    .action((section: string | undefined, _o, c: Command) => {
      capture({ command: 'docs', opts: normalize(c.optsWithGlobals()), run: async () => undefined, local: async (io) => io.out(docsText(section).text) });
    });
  program
    .command('version')
    .description('Show version')
    .helpOption('--help', 'Show help')
    .action((_o, c: Command) => {
      capture({
        command: 'version',
        opts: normalize(c.optsWithGlobals()),
        run: async () => undefined,
        local: async (io) => io.out(`${KAMAL_ACTION_VERSION} (compatible with Kamal ${KAMAL_COMPAT_VERSION})\n`),
      });
    });

  // ---- app ----
  const appCmd = sub(program, 'app', 'Manage application');
  on(sub(appCmd, 'boot', 'Boot app on servers (or reboot app if already running)'), 'app', 'boot', (k, o) =>
    app.appBootCommand(k, o.version as string | undefined),
  );
  on(sub(appCmd, 'start', 'Start existing app container on servers'), 'app', 'start', (k) => app.appStart(k));
  on(sub(appCmd, 'stop', 'Stop app container on servers'), 'app', 'stop', (k) => app.appStop(k));
  on(sub(appCmd, 'details', 'Show details about app containers'), 'app', 'details', (k) => app.appDetails(k));
  on(sub(appCmd, 'containers', 'Show app containers on servers'), 'app', 'containers', (k) => app.appContainers(k));
  on(sub(appCmd, 'images', 'Show app images on servers'), 'app', 'images', (k) => app.appImages(k));
  on(sub(appCmd, 'version', 'Show app version currently running on servers'), 'app', 'version', (k) => app.appVersion(k));
  on(
    sub(appCmd, 'stale_containers', 'Detect app stale containers').option('-s, --stop', 'Stop the stale containers found'),
    'app',
    'stale_containers',
    (k, o) => app.staleContainersCommand(k, !!o.stop),
  );
  on(
    sub(appCmd, 'logs', 'Show log lines from app on servers')
      .option('-s, --since <since>', 'Show lines since timestamp or relative (e.g. 42m)')
      .option('-n, --lines <lines>', 'Number of lines to show from each server', int('lines'))
      .option('-g, --grep <grep>', 'Show lines with grep match only')
      .option('--grep-options <options>', 'Additional options supplied to grep')
      .option('-f, --follow [follow]', 'Follow log on primary server (or specific host set by --hosts)')
      .option('-T, --skip-timestamps', 'Skip appending timestamps to logging output')
      .option('--container-id <id>', 'Docker container ID to fetch logs'),
    'app',
    'logs',
    (k, o) =>
      app.appLogs(k, {
        since: o.since as string | undefined,
        lines: o.lines as number | undefined,
        grep: o.grep as string | undefined,
        grepOptions: o.grepOptions as string | undefined,
        follow: !!o.follow,
        timestamps: !o.skipTimestamps,
        containerId: o.containerId as string | undefined,
      }),
  );
  on(
    sub(appCmd, 'exec', 'Execute a custom command on servers within the app container')
      .argument('[cmd...]')
      .option('-i, --interactive', 'Execute command over ssh for an interactive shell')
      .option('--reuse', 'Reuse currently running container instead of starting a new one')
      .option('-e, --env <KEY=VALUE>', 'Set environment variables for the command (KEY=VALUE or Kamal\'s KEY:VALUE, several may follow one -e)', collect, [])
      .option('--detach', 'Execute command in a detached container')
      .option('--raw', 'Output raw, unmodified stdout'),
    'app',
    'exec',
    (k, o, a) =>
      app.appExec(k, a, {
        interactive: !!o.interactive,
        reuse: !!o.reuse,
        detach: !!o.detach,
        raw: !!o.raw,
        env: parseEnv(o.env as string[] | undefined),
      }),
  );
  on(sub(appCmd, 'remove', 'Remove app containers and images from servers'), 'app', 'remove', (k) => app.appRemove(k));
  // hidden in Kamal's help
  const hidden = (name: string, desc: string): Command => appCmd.command(name, { hidden: true }).description(desc).helpOption('--help', 'Show help');
  on(hidden('remove_container', 'Remove app container with given version from servers').argument('<version>'), 'app', 'remove_container', (k, _o, a) =>
    app.appRemoveContainer(k, a[0]!),
  );
  on(hidden('remove_containers', 'Remove all app containers from servers'), 'app', 'remove_containers', (k) => app.appRemoveContainers(k));
  on(hidden('remove_images', 'Remove all app images from servers'), 'app', 'remove_images', (k) => app.appRemoveImages(k));
  on(hidden('remove_app_directories', 'Remove the app directories from servers'), 'app', 'remove_app_directories', (k) =>
    app.appRemoveAppDirectories(k),
  );
  // not in Kamal: the action's post step finishes the undo of a rollout cancelled mid-way with it
  on(
    hidden('undo_boot', 'Put the previous version back where a cancelled rollout started a new one').argument(
      '<boots>',
      'JSON list of {host, role, version, previousVersion, phase}',
    ),
    'app',
    'undo_boot',
    (k, _o, a) => undoBoots(k, parseBootsArgument(a[0]!)),
  );
  on(sub(appCmd, 'live', 'Set the app to live mode'), 'app', 'live', (k) => app.appLive(k));
  on(
    sub(appCmd, 'maintenance', 'Set the app to maintenance mode')
      .option('--drain-timeout <seconds>', 'How long to allow in-flight requests to complete', int('drain-timeout'))
      .option('--message <message>', 'Message to display to clients while stopped'),
    'app',
    'maintenance',
    (k, o) => app.appMaintenance(k, { drainTimeout: o.drainTimeout as number | undefined, message: o.message as string | undefined }),
  );

  // ---- proxy ----
  const proxyCmd = sub(program, 'proxy', 'Manage kamal-proxy');
  on(sub(proxyCmd, 'boot', 'Boot proxy on servers'), 'proxy', 'boot', (k) => proxy.proxyBoot(k));
  on(
    sub(proxyCmd, 'reboot', 'Reboot proxy on servers (stop container, remove container, start new container)')
      .option('--rolling', 'Reboot proxy on hosts in sequence, rather than in parallel')
      .option('-y, --confirmed', 'Proceed without confirmation question'),
    'proxy',
    'reboot',
    (k, o) => proxy.proxyReboot(k, { rolling: !!o.rolling }),
  );
  on(sub(proxyCmd, 'start', 'Start existing proxy container on servers'), 'proxy', 'start', (k) => proxy.proxyStart(k));
  on(sub(proxyCmd, 'stop', 'Stop existing proxy container on servers'), 'proxy', 'stop', (k) => proxy.proxyStop(k));
  on(sub(proxyCmd, 'restart', 'Restart existing proxy container on servers'), 'proxy', 'restart', (k) => proxy.proxyRestart(k));
  on(
    proxyCmd
      .command('upgrade', { hidden: true })
      .description('Upgrade to kamal-proxy on servers (stop container, remove container, start new container, reboot app)')
      .helpOption('--help', 'Show help')
      .option('--rolling', 'Reboot proxy on hosts in sequence, rather than in parallel')
      .option('-y, --confirmed', 'Proceed without confirmation question'),
    'proxy',
    'upgrade',
    (k, o) => proxy.proxyUpgrade(k, { rolling: !!o.rolling }),
  );
  on(sub(proxyCmd, 'details', 'Show details about proxy container from servers'), 'proxy', 'details', (k) =>
    proxy.proxyDetails(k),
  );
  on(
    sub(proxyCmd, 'logs', 'Show log lines from proxy on servers')
      .option('-s, --since <since>', 'Show logs since timestamp or relative')
      .option('-n, --lines <lines>', 'Number of log lines to pull from each server', int('lines'))
      .option('-g, --grep <grep>', 'Show lines with grep match only')
      .option('-f, --follow [follow]', 'Follow logs on primary server (or specific host set by --hosts)')
      .option('-T, --skip-timestamps', 'Skip appending timestamps to logging output'),
    'proxy',
    'logs',
    (k, o) =>
      proxy.proxyLogs(k, {
        since: o.since as string | undefined,
        lines: o.lines as number | undefined,
        grep: o.grep as string | undefined,
        timestamps: !o.skipTimestamps,
        follow: !!o.follow,
      }),
  );
  on(
    sub(proxyCmd, 'remove', 'Remove proxy container and image from servers').option(
      '--force',
      'Force removing proxy when apps are still installed',
    ),
    'proxy',
    'remove',
    (k, o) => proxy.proxyRemove(k, { force: !!o.force }),
  );
  for (const [name, desc, fn] of [
    ['remove_container', 'Remove proxy container from servers', proxy.proxyRemoveContainer],
    ['remove_image', 'Remove proxy image from servers', proxy.proxyRemoveImage],
    ['remove_proxy_directory', 'Remove the proxy directory from servers', proxy.proxyRemoveProxyDirectory],
  ] as const) {
    // hidden, as in Kamal
    on(proxyCmd.command(name, { hidden: true }).description(desc).helpOption('--help', 'Show help'), 'proxy', name, (k) => fn(k));
  }
  on(
    sub(proxyCmd, 'boot_config', 'Manage kamal-proxy boot configuration (deprecated: use proxy/run in the config)')
      .argument('<subcommand>', 'set, get or reset')
      .option('--publish [bool]', 'Publish the proxy ports on the host (default true)', thorBoolean('publish'))
      .option('--no-publish', 'Do not publish the proxy ports on the host')
      .option('--publish-host-ip <ip...>', 'Host IP address to bind HTTP/HTTPS traffic to')
      .option('--http-port <port>', 'HTTP port to publish on the host', int('http-port'), 80)
      .option('--https-port <port>', 'HTTPS port to publish on the host', int('https-port'), 443)
      .option('--log-max-size <size>', 'Max size of proxy logs', '10m')
      .option('--registry <registry>', 'Registry to use for the proxy image')
      .option('--repository <repository>', 'Repository for the proxy image')
      .option('--image-version <version>', 'Version of the proxy to run')
      .option('--metrics-port <port>', 'Port to report prometheus metrics on', int('metrics-port'))
      .option('--debug [bool]', 'Whether to run the proxy in debug mode', thorBoolean('debug'))
      .option('--docker-options <options...>', 'Docker options to pass to the proxy container (option=value)', []),
    'proxy',
    'boot_config',
    (k, o, a) => proxyBootConfig(k, a[0]!, o),
  );

  // ---- accessory ----
  const accCmd = sub(program, 'accessory', 'Manage accessories (db/redis/search)');
  const accName = (c: Command) => c.argument('<name>', "accessory name, or 'all'");
  on(accName(sub(accCmd, 'boot', 'Boot new accessory service on host (use NAME=all to boot all accessories)')), 'accessory', 'boot', (k, _o, a) =>
    acc.accessoryBoot(k, a[0]!),
  );
  on(accName(sub(accCmd, 'reboot', 'Reboot existing accessory on host')), 'accessory', 'reboot', (k, _o, a) =>
    acc.accessoryReboot(k, a[0]!),
  );
  on(accName(sub(accCmd, 'start', 'Start existing accessory container on host')), 'accessory', 'start', (k, _o, a) =>
    acc.accessoryStart(k, a[0]!),
  );
  on(accName(sub(accCmd, 'stop', 'Stop existing accessory container on host')), 'accessory', 'stop', (k, _o, a) =>
    acc.accessoryStop(k, a[0]!),
  );
  on(accName(sub(accCmd, 'restart', 'Restart existing accessory container on host')), 'accessory', 'restart', (k, _o, a) =>
    acc.accessoryRestart(k, a[0]!),
  );
  on(accName(sub(accCmd, 'details', 'Show details about accessory on host')), 'accessory', 'details', (k, _o, a) =>
    acc.accessoryDetails(k, a[0]!),
  );
  on(accName(sub(accCmd, 'upload', 'Upload accessory files to host')), 'accessory', 'upload', (k, _o, a) =>
    acc.accessoryUpload(k, a[0]!),
  );
  on(accName(sub(accCmd, 'directories', 'Create accessory directories on host')), 'accessory', 'directories', (k, _o, a) =>
    acc.accessoryDirectories(k, a[0]!),
  );
  on(
    accName(sub(accCmd, 'remove', 'Remove accessory container, image and data directory from host')).option(
      '-y, --confirmed',
      'Proceed without confirmation question',
    ),
    'accessory',
    'remove',
    (k, _o, a) => acc.accessoryRemove(k, a[0]!),
  );
  on(
    accName(sub(accCmd, 'logs', 'Show log lines from accessory on host'))
      .option('-s, --since <since>', 'Show logs since timestamp or relative')
      .option('-n, --lines <lines>', 'Number of log lines to pull from each server', int('lines'))
      .option('-g, --grep <grep>', 'Show lines with grep match only')
      .option('--grep-options <options>', 'Additional options supplied to grep')
      .option('-f, --follow [follow]', 'Follow logs on primary server (or specific host set by --hosts)')
      .option('-T, --skip-timestamps', 'Skip appending timestamps to logging output'),
    'accessory',
    'logs',
    (k, o, a) =>
      acc.accessoryLogs(k, a[0]!, {
        since: o.since as string | undefined,
        lines: o.lines as number | undefined,
        grep: o.grep as string | undefined,
        grepOptions: o.grepOptions as string | undefined,
        timestamps: !o.skipTimestamps,
        follow: !!o.follow,
      }),
  );
  on(
    accName(sub(accCmd, 'exec', 'Execute a custom command on servers within the accessory container'))
      .argument('<cmd...>')
      .option('-i, --interactive', 'Execute command over ssh for an interactive shell')
      .option('--reuse', 'Reuse currently running container instead of starting a new one')
      .option('--raw', 'Output raw, unmodified stdout'),
    'accessory',
    'exec',
    (k, o, a) =>
      acc.accessoryExec(k, a[0]!, a.slice(1).map((s) => s.trim()).join(' '), {
        reuse: !!o.reuse,
        interactive: !!o.interactive,
        raw: !!o.raw,
      }),
  );
  on(
    accName(sub(accCmd, 'upgrade', "Upgrade accessories from Kamal 1.x to 2.0 (restart them in 'kamal' network)"))
      .option('--rolling', 'Upgrade one host at a time')
      .option('-y, --confirmed', 'Proceed without confirmation question'),
    'accessory',
    'upgrade',
    (k, o, a) => acc.accessoryUpgrade(k, a[0]!, { rolling: !!o.rolling }),
  );
  for (const [name, desc, fn] of [
    ['pull_image', 'Pull accessory image on host', acc.accessoryPullImage],
    ['remove_container', 'Remove accessory container from host', acc.accessoryRemoveContainer],
    ['remove_image', 'Remove accessory image from host', acc.accessoryRemoveImage],
    ['remove_service_directory', 'Remove accessory directory used for uploaded files and data directories from host', acc.accessoryRemoveServiceDirectory],
  ] as const) {
    // hidden, as in Kamal
    const c = accName(accCmd.command(name, { hidden: true }).description(desc).helpOption('--help', 'Show help'));
    on(c, 'accessory', name, (k, _o, a) => fn(k, a[0]!));
  }

  // ---- build ----
  const buildCmd = sub(program, 'build', 'Build application image');
  on(sub(buildCmd, 'deliver', 'Build app and push app image to registry then pull image on servers').option('--no-cache', "Build without using Docker's build cache"), 'build', 'deliver', (k, o) =>
    build.buildDeliver(k, { noCache: o.cache === false }),
  );
  on(
    sub(buildCmd, 'push', 'Build and push app image to registry')
      .option('--no-cache', "Build without using Docker's build cache")
      .option('--output <type>', "Exported type for the build result", 'registry'),
    'build',
    'push',
    (k, o) => build.buildPush(k, { noCache: o.cache === false, output: o.output as string }),
  );
  on(sub(buildCmd, 'pull', 'Pull app image from registry onto servers'), 'build', 'pull', (k) => build.buildPull(k));
  on(sub(buildCmd, 'create', 'Create a build setup'), 'build', 'create', (k) => build.buildCreate(k));
  on(sub(buildCmd, 'remove', 'Remove build setup'), 'build', 'remove', (k) => build.buildRemove(k));
  on(sub(buildCmd, 'details', 'Show build setup'), 'build', 'details', (k) => build.buildDetails(k));
  on(
    sub(buildCmd, 'dev', 'Build using the working directory, tag it as dirty, and push to local image store.')
      .option('--output <type>', "Exported type for the build result, and may be any exported type supported by 'buildx --output'.", 'docker')
      .option('--no-cache', "Build without using Docker's build cache"),
    'build',
    'dev',
    (k, o) => build.buildDev(k, { noCache: o.cache === false, output: o.output as string }),
  );

  // ---- registry ----
  const regCmd = sub(program, 'registry', 'Login and -out of the image registry');
  for (const [name, desc, fn] of [
    ['login', 'Log in to remote registry locally and remotely', registry.registryLogin],
    ['setup', 'Setup local registry or log in to remote registry locally and remotely', registry.registrySetup],
    ['logout', 'Log out of remote registry locally and remotely', registry.registryLogout],
    ['remove', 'Remove local registry or log out of remote registry locally and remotely', registry.registryRemove],
  ] as const) {
    on(
      sub(regCmd, name, desc).option('-L, --skip-local', 'Skip local login').option('-R, --skip-remote', 'Skip remote login'),
      'registry',
      name,
      (k, o) => fn(k, { skipLocal: !!o.skipLocal, skipRemote: !!o.skipRemote }),
    );
  }

  // ---- lock ----
  const lockCmd = sub(program, 'lock', 'Manage the deploy lock');
  on(sub(lockCmd, 'status', 'Report lock status'), 'lock', 'status', (k) => lock.lockStatus(k));
  on(
    sub(lockCmd, 'acquire', 'Acquire the deploy lock').requiredOption('-m, --message <message>', 'A lock message'),
    'lock',
    'acquire',
    (k, o) => lock.lockAcquire(k, o.message as string),
  );
  on(sub(lockCmd, 'release', 'Release the deploy lock'), 'lock', 'release', (k) => lock.lockRelease(k));

  // ---- prune ----
  const pruneCmd = sub(program, 'prune', 'Prune old application images and containers');
  on(sub(pruneCmd, 'all', 'Prune unused images and stopped containers'), 'prune', 'all', (k) => prune.pruneAll(k));
  on(sub(pruneCmd, 'images', 'Prune unused images'), 'prune', 'images', (k) => prune.pruneImages(k));
  on(
    sub(pruneCmd, 'containers', 'Prune all stopped containers, except the last n (default 5)').option(
      '--retain <n>',
      'Number of containers to retain',
      int('retain'),
    ),
    'prune',
    'containers',
    (k, o) => prune.pruneContainers(k, o.retain as number | undefined),
  );

  // ---- server ----
  const serverCmd = sub(program, 'server', 'Bootstrap servers with curl and Docker');
  on(sub(serverCmd, 'bootstrap', 'Set up Docker to run Kamal apps'), 'server', 'bootstrap', (k) => server.serverBootstrap(k));
  on(
    sub(serverCmd, 'exec', 'Run a custom command on the server')
      .argument('<cmd...>')
      .allowUnknownOption() // `server exec date -j`: -j belongs to the command, as with Kamal
      .option('-i, --interactive', 'Run the command interactively (use for console/bash)')
      .option('--raw', 'Output raw, unmodified stdout'),
    'server',
    'exec',
    (k, o, a) => server.serverExec(k, a.map((s) => s.trim()).join(' '), { interactive: !!o.interactive, raw: !!o.raw }),
  );

  // ---- secrets ----
  const secretsCmd = sub(program, 'secrets', 'Helpers for extracting secrets');
  const secretsLocal = (c: Command, subcommand: string, local: (io: CliIO) => Promise<void>): void =>
    capture({ command: 'secrets', subcommand, opts: normalize(c.optsWithGlobals()), run: async () => undefined, local });
  sub(secretsCmd, 'fetch', 'Fetch secrets from a vault')
    .argument('[secrets...]')
    .option('-a, --adapter <adapter>', 'Which vault adapter to use')
    .option('--account <account>', 'The account identifier or username')
    .option('--from <from>', 'A vault or folder to fetch the secrets from')
    .addOption(new Option('--inline').hideHelp())
    .action((names: string[], o: Record<string, unknown>, c: Command) =>
      secretsLocal(c, 'fetch', async (io) => {
        if (typeof o.adapter !== 'string') throw new UsageError("No value provided for required options '--adapter'");
        const args = { adapter: o.adapter, account: o.account as string | undefined, from: o.from as string | undefined, names, inline: !!o.inline };
        // tests give a recording runner; otherwise the vendor CLIs run through sh
        io.out(secretsFetch(args, { env: io.env, cwd: io.cwd, run: (io as { vendorRunner?: VendorRunner }).vendorRunner }));
      }),
    );
  sub(secretsCmd, 'extract', 'Extract a single secret from the results of a fetch call')
    .argument('<name>')
    .argument('<secrets>')
    .addOption(new Option('--inline').hideHelp())
    .action((name: string, secrets: string, o: Record<string, unknown>, c: Command) =>
      secretsLocal(c, 'extract', async (io) => io.out(secretsExtract(name, secrets, !!o.inline))),
    );
  on(
    sub(secretsCmd, 'print', 'Print the secrets (redacted unless --reveal)').option('--reveal', 'Print the secret values'),
    'secrets',
    'print',
    async (k, o) => {
      const store = k.config.secrets;
      k.reporter.write(secretsPrintLines(store.keys().map((key) => [key, store.get(key)!.reveal()] as [string, string]), !!o.reveal));
    },
  );

  addPlanHelp(program);
  return program;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** An `--env` value: `KEY=VALUE`, or Kamal's (Thor hash) `KEY:VALUE`. */
const ENV_PAIR = /^([A-Za-z_][A-Za-z0-9_]*)[=:]/;

function parseEnv(list: string[] | undefined): Record<string, string> | undefined {
  if (!list || list.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const item of list) {
    const m = ENV_PAIR.exec(item);
    const i = item.indexOf('=');
    if (m) env[m[1]!] = item.slice(m[0].length);
    else if (i > 0) env[item.slice(0, i)] = item.slice(i + 1);
    else throw new UsageError(`--env expects KEY=VALUE, got '${item}'`);
  }
  return env;
}

function normalize(o: Record<string, unknown>): ContextOptions {
  return {
    verbose: !!o.verbose,
    quiet: !!o.quiet,
    version: o.version as string | undefined,
    primary: !!o.primary,
    hosts: o.hosts as string | undefined,
    roles: o.roles as string | undefined,
    configFile: o.configFile as string | undefined,
    destination: o.destination as string | undefined,
    skipHooks: !!o.skipHooks,
    lockWait: !!o.lockWait,
    lockWaitTimeout: o.lockWaitTimeout as number | undefined,
    lockWaitInterval: o.lockWaitInterval as number | undefined,
    confirmed: !!o.confirmed,
    allOrNothing: !!o.allOrNothing,
    plan: !!o.dryRun,
    hostKeyChecking: o.hostKeyChecking as ContextOptions['hostKeyChecking'],
    knownHostsFile: o.knownHosts as string | undefined,
  };
}

/**
 * Before commander sees the words:
 * - `-e`/`--env` takes the KEY=VALUE (or KEY:VALUE) words that follow it, as Kamal's hash
 *   option does, each passed as its own `--env=` so the command words after them stay
 *   the command, wherever the option stands.
 * - Long options may be written with underscores, as Thor allows (`--skip_push` is `--skip-push`).
 * - Thor's `--no-NAME` and `--skip-NAME` of a boolean option NAME set it false: the word (and
 *   any `--NAME` before it) is dropped, our booleans being false unless given.
 * Words after `--` are left alone.
 */
export function preprocessArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '-e' || a === '--env') {
      const start = out.length;
      while (i + 1 < argv.length && ENV_PAIR.test(argv[i + 1]!)) out.push(`--env=${argv[++i]}`);
      if (out.length === start) out.push(a); // commander reports the missing value
      continue;
    }
    const word = dasherize(a);
    const negated = thorNegated(word);
    if (negated) {
      for (let j = out.length - 1; j >= 0; j--) if (out[j] === negated.positive) out.splice(j, 1);
      if (negated.replacement) out.push(negated.replacement);
      continue;
    }
    out.push(word);
  }
  return out;
}

/**
 * Thor's negations: `--no-verbose` / `--skip-verbose` drop `--verbose` (false unless given),
 * `--skip-publish` is our `--no-publish`, `--no-debug` of a `--debug [bool]` is `--debug=false`.
 * Words that are options of their own (`--no-cache`, `--skip-push`) are left alone.
 */
function thorNegated(word: string): { positive: string; replacement?: string } | undefined {
  const m = /^--(?:no|skip)-([a-z][a-z0-9-]*)$/.exec(word);
  if (!m || knownLongOptions().has(word)) return undefined;
  const positive = `--${m[1]}`;
  if (knownLongOptions().has(`--no-${m[1]}`)) return { positive, replacement: `--no-${m[1]}` };
  const kind = knownBooleanOptions().get(positive);
  if (kind === 'flag') return { positive };
  if (kind === 'optional') return { positive, replacement: `${positive}=false` };
  return undefined;
}

let booleanOptions: Map<string, 'flag' | 'optional'> | undefined;
function knownBooleanOptions(): Map<string, 'flag' | 'optional'> {
  if (!booleanOptions) {
    const found = new Map<string, 'flag' | 'optional'>();
    const walk = (c: Command): void => {
      for (const o of c.options) {
        if (!o.long || o.required || o.negate || (o.optional && !o.flags.endsWith('[bool]'))) continue;
        found.set(o.long, o.optional ? 'optional' : 'flag');
      }
      c.commands.forEach(walk);
    };
    walk(buildProgram(() => undefined));
    booleanOptions = found;
  }
  return booleanOptions;
}

/**
 * `--skip_push[=x]` → `--skip-push[=x]` when that is one of our options (Thor's normalize_switch);
 * other words, such as an unknown option of a `server exec` command, are kept as written.
 */
function dasherize(word: string): string {
  const m = /^--([a-z][a-z0-9_-]*)(=.*)?$/s.exec(word);
  if (!m || !m[1]!.includes('_')) return word;
  const dashed = `--${m[1]!.replace(/_/g, '-')}`;
  return knownLongOptions().has(dashed) ? `${dashed}${m[2] ?? ''}` : word;
}

let longOptions: Set<string> | undefined;
function knownLongOptions(): Set<string> {
  if (!longOptions) {
    const found = new Set<string>();
    const walk = (c: Command): void => {
      for (const o of c.options) if (o.long) found.add(o.long);
      c.commands.forEach(walk);
    };
    walk(buildProgram(() => undefined));
    longOptions = found;
  }
  return longOptions;
}

export interface ParsedInvocation extends Invocation {}

export function parse(argv: string[]): Invocation | { help: string } {
  let inv: Invocation | undefined;
  let help = '';
  const program = buildProgram((i) => {
    inv = i;
  });
  program.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s), outputError: () => undefined });
  try {
    program.parse(preprocessArgv(argv), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return { help };
      if (e.exitCode === 0) return { help };
      throw new UsageError(e.message.replace(/^error: /, ''));
    }
    throw e;
  }
  if (!inv) {
    return { help: program.helpInformation() };
  }
  validateCliValues((inv as Invocation).opts);
  return inv;
}

export { PlanRunner };

/** The boots argument of `app undo_boot`; a malformed one is a usage error. */
function parseBootsArgument(text: string) {
  try {
    return parsePendingUndo(text);
  } catch (e) {
    throw new UsageError(`app undo_boot: ${(e as Error).message}`);
  }
}
