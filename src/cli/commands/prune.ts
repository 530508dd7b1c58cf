/** `prune` (Kamal::Cli::Prune): old containers and images on the servers. */
import * as prune from '../../engine/prune.js';
import { int, num, type CommandGroup } from './table.js';

export const pruneCommands: CommandGroup = {
  name: 'prune',
  description: 'Prune old application images and containers',
  commands: [
    { name: 'all', description: 'Prune unused images and stopped containers', run: (kamal) => prune.pruneAll(kamal) },
    { name: 'images', description: 'Prune unused images', run: (kamal) => prune.pruneImages(kamal) },
    {
      name: 'containers',
      description: 'Prune all stopped containers, except the last n (default 5)',
      options: [{ flags: '--retain <n>', description: 'Number of containers to retain', parse: int('retain') }],
      run: (kamal, options) => prune.pruneContainers(kamal, num(options, 'retain')),
    },
  ],
};
