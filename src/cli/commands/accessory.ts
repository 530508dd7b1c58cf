/** `accessory` (Kamal::Cli::Accessory): databases, caches and other services beside the app. */
import * as accessory from '../../engine/accessory.js';
import type { Kamal } from '../../engine/kamal.js';
import { CONFIRMED, int, logsOptions, type ArgumentSpec, type CommandGroup, type CommandSpec } from './table.js';

const NAME: ArgumentSpec = { name: '<name>', description: "accessory name, or 'all'" };

/** A command on the named accessory (or all). */
const onAccessory = (
  name: string,
  description: string,
  operation: (kamal: Kamal, accessoryName: string) => Promise<unknown>,
  hidden?: boolean,
): CommandSpec => ({ name, description, ...(hidden ? { hidden } : {}), arguments: [NAME], run: (kamal, _options, args) => operation(kamal, args[0]!) });

export const accessoryCommands: CommandGroup = {
  name: 'accessory',
  description: 'Manage accessories (db/redis/search)',
  commands: [
    onAccessory('boot', 'Boot new accessory service on host (use NAME=all to boot all accessories)', accessory.accessoryBoot),
    onAccessory('reboot', 'Reboot existing accessory on host', accessory.accessoryReboot),
    onAccessory('start', 'Start existing accessory container on host', accessory.accessoryStart),
    onAccessory('stop', 'Stop existing accessory container on host', accessory.accessoryStop),
    onAccessory('restart', 'Restart existing accessory container on host', accessory.accessoryRestart),
    onAccessory('details', 'Show details about accessory on host', accessory.accessoryDetails),
    onAccessory('upload', 'Upload accessory files to host', accessory.accessoryUpload),
    onAccessory('directories', 'Create accessory directories on host', accessory.accessoryDirectories),
    { ...onAccessory('remove', 'Remove accessory container, image and data directory from host', accessory.accessoryRemove), options: [CONFIRMED] },
    {
      name: 'logs',
      description: 'Show log lines from accessory on host',
      arguments: [NAME],
      options: [
        { flags: '-s, --since <since>', description: 'Show logs since timestamp or relative' },
        { flags: '-n, --lines <lines>', description: 'Number of log lines to pull from each server', parse: int('lines') },
        { flags: '-g, --grep <grep>', description: 'Show lines with grep match only' },
        { flags: '--grep-options <options>', description: 'Additional options supplied to grep' },
        { flags: '-f, --follow [follow]', description: 'Follow logs on primary server (or specific host set by --hosts)' },
        { flags: '-T, --skip-timestamps', description: 'Skip appending timestamps to logging output' },
      ],
      run: (kamal, options, args) => accessory.accessoryLogs(kamal, args[0]!, logsOptions(options)),
    },
    {
      name: 'exec',
      description: 'Execute a custom command on servers within the accessory container',
      arguments: [NAME, { name: '<cmd...>' }],
      options: [
        { flags: '-i, --interactive', description: 'Execute command over ssh for an interactive shell' },
        { flags: '--reuse', description: 'Reuse currently running container instead of starting a new one' },
        { flags: '--raw', description: 'Output raw, unmodified stdout' },
      ],
      run: (kamal, options, args) =>
        accessory.accessoryExec(
          kamal,
          args[0]!,
          args
            .slice(1)
            .map((word) => word.trim())
            .join(' '),
          { reuse: !!options.reuse, interactive: !!options.interactive, raw: !!options.raw },
        ),
    },
    {
      name: 'upgrade',
      description: "Upgrade accessories from Kamal 1.x to 2.0 (restart them in 'kamal' network)",
      arguments: [NAME],
      options: [{ flags: '--rolling', description: 'Upgrade one host at a time' }, CONFIRMED],
      run: (kamal, options, args) => accessory.accessoryUpgrade(kamal, args[0]!, { rolling: !!options.rolling }),
    },
    // hidden, as in Kamal
    onAccessory('pull_image', 'Pull accessory image on host', accessory.accessoryPullImage, true),
    onAccessory('remove_container', 'Remove accessory container from host', accessory.accessoryRemoveContainer, true),
    onAccessory('remove_image', 'Remove accessory image from host', accessory.accessoryRemoveImage, true),
    onAccessory(
      'remove_service_directory',
      'Remove accessory directory used for uploaded files and data directories from host',
      accessory.accessoryRemoveServiceDirectory,
      true,
    ),
  ],
};
