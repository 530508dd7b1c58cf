/** `lock` (Kamal::Cli::Lock): the deploy lock on the primary host. */
import * as lock from '../../engine/lock-commands.js';
import type { CommandGroup } from './table.js';

export const lockCommands: CommandGroup = {
  name: 'lock',
  description: 'Manage the deploy lock',
  commands: [
    { name: 'status', description: 'Report lock status', run: (kamal) => lock.lockStatus(kamal) },
    {
      name: 'acquire',
      description: 'Acquire the deploy lock',
      options: [{ flags: '-m, --message <message>', description: 'A lock message', required: true }],
      run: (kamal, options) => lock.lockAcquire(kamal, options.message as string),
    },
    { name: 'release', description: 'Release the deploy lock', run: (kamal) => lock.lockRelease(kamal) },
  ],
};
