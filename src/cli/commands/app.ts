/** `app` (Kamal::Cli::App): the application containers on the servers. */
import { UsageError } from '../../errors.js';
import * as app from '../../engine/app-commands.js';
import { undoBoots } from '../../engine/app.js';
import { parsePendingUndo } from '../../engine/cancel.js';
import { collect, int, logsOptions, num, str, type CommandGroup } from './table.js';

export const appCommands: CommandGroup = {
  name: 'app',
  description: 'Manage application',
  commands: [
    {
      name: 'boot',
      description: 'Boot app on servers (or reboot app if already running)',
      run: (kamal, options) => app.appBootCommand(kamal, str(options, 'version')),
    },
    { name: 'start', description: 'Start existing app container on servers', run: (kamal) => app.appStart(kamal) },
    { name: 'stop', description: 'Stop app container on servers', run: (kamal) => app.appStop(kamal) },
    { name: 'details', description: 'Show details about app containers', run: (kamal) => app.appDetails(kamal) },
    { name: 'containers', description: 'Show app containers on servers', run: (kamal) => app.appContainers(kamal) },
    { name: 'images', description: 'Show app images on servers', run: (kamal) => app.appImages(kamal) },
    { name: 'version', description: 'Show app version currently running on servers', run: (kamal) => app.appVersion(kamal) },
    {
      name: 'stale_containers',
      description: 'Detect app stale containers',
      options: [{ flags: '-s, --stop', description: 'Stop the stale containers found' }],
      run: (kamal, options) => app.staleContainersCommand(kamal, !!options.stop),
    },
    {
      name: 'logs',
      description: 'Show log lines from app on servers',
      options: [
        { flags: '-s, --since <since>', description: 'Show lines since timestamp or relative (e.g. 42m)' },
        { flags: '-n, --lines <lines>', description: 'Number of lines to show from each server', parse: int('lines') },
        { flags: '-g, --grep <grep>', description: 'Show lines with grep match only' },
        { flags: '--grep-options <options>', description: 'Additional options supplied to grep' },
        { flags: '-f, --follow [follow]', description: 'Follow log on primary server (or specific host set by --hosts)' },
        { flags: '-T, --skip-timestamps', description: 'Skip appending timestamps to logging output' },
        { flags: '--container-id <id>', description: 'Docker container ID to fetch logs' },
      ],
      run: (kamal, options) => app.appLogs(kamal, { ...logsOptions(options), containerId: str(options, 'containerId') }),
    },
    {
      name: 'exec',
      description: 'Execute a custom command on servers within the app container',
      arguments: [{ name: '[cmd...]' }],
      options: [
        { flags: '-i, --interactive', description: 'Execute command over ssh for an interactive shell' },
        { flags: '--reuse', description: 'Reuse currently running container instead of starting a new one' },
        {
          flags: '-e, --env <KEY=VALUE>',
          description: "Set environment variables for the command (KEY=VALUE or Kamal's KEY:VALUE, several may follow one -e)",
          parse: collect,
          default: [],
        },
        { flags: '--detach', description: 'Execute command in a detached container' },
        { flags: '--raw', description: 'Output raw, unmodified stdout' },
      ],
      run: (kamal, options, args) =>
        app.appExec(kamal, args, {
          interactive: !!options.interactive,
          reuse: !!options.reuse,
          detach: !!options.detach,
          raw: !!options.raw,
          env: parseEnv(options.env as string[] | undefined),
        }),
    },
    { name: 'remove', description: 'Remove app containers and images from servers', run: (kamal) => app.appRemove(kamal) },
    // hidden in Kamal's help
    {
      name: 'remove_container',
      description: 'Remove app container with given version from servers',
      hidden: true,
      arguments: [{ name: '<version>' }],
      run: (kamal, _options, args) => app.appRemoveContainer(kamal, args[0]!),
    },
    { name: 'remove_containers', description: 'Remove all app containers from servers', hidden: true, run: (kamal) => app.appRemoveContainers(kamal) },
    { name: 'remove_images', description: 'Remove all app images from servers', hidden: true, run: (kamal) => app.appRemoveImages(kamal) },
    {
      name: 'remove_app_directories',
      description: 'Remove the app directories from servers',
      hidden: true,
      run: (kamal) => app.appRemoveAppDirectories(kamal),
    },
    // not in Kamal: the action's post step finishes the undo of a rollout cancelled mid-way with it
    {
      name: 'undo_boot',
      description: 'Put the previous version back where a cancelled rollout started a new one',
      hidden: true,
      arguments: [{ name: '<boots>', description: 'JSON list of {host, role, version, previousVersion, phase}' }],
      run: (kamal, _options, args) => undoBoots(kamal, parseBootsArgument(args[0]!)),
    },
    { name: 'live', description: 'Set the app to live mode', run: (kamal) => app.appLive(kamal) },
    {
      name: 'maintenance',
      description: 'Set the app to maintenance mode',
      options: [
        { flags: '--drain-timeout <seconds>', description: 'How long to allow in-flight requests to complete', parse: int('drain-timeout') },
        { flags: '--message <message>', description: 'Message to display to clients while stopped' },
      ],
      run: (kamal, options) => app.appMaintenance(kamal, { drainTimeout: num(options, 'drainTimeout'), message: str(options, 'message') }),
    },
  ],
};

/** An `--env` value: `KEY=VALUE`, or Kamal's (Thor hash) `KEY:VALUE`. */
export const ENV_PAIR = /^([A-Za-z_][A-Za-z0-9_]*)[=:]/;

function parseEnv(list: string[] | undefined): Record<string, string> | undefined {
  if (!list || list.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const item of list) {
    const pair = ENV_PAIR.exec(item);
    const equals = item.indexOf('=');
    if (pair) env[pair[1]!] = item.slice(pair[0].length);
    else if (equals > 0) env[item.slice(0, equals)] = item.slice(equals + 1);
    else throw new UsageError(`--env expects KEY=VALUE, got '${item}'`);
  }
  return env;
}

/** The boots argument of `app undo_boot`; a malformed one is a usage error. */
function parseBootsArgument(text: string) {
  try {
    return parsePendingUndo(text);
  } catch (e) {
    throw new UsageError(`app undo_boot: ${(e as Error).message}`);
  }
}
