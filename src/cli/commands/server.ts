/** `server` (Kamal::Cli::Server): Docker on the servers, and commands run there. */
import * as server from '../../engine/server.js';
import type { CommandGroup } from './table.js';

export const serverCommands: CommandGroup = {
  name: 'server',
  description: 'Bootstrap servers with curl and Docker',
  commands: [
    { name: 'bootstrap', description: 'Set up Docker to run Kamal apps', run: (kamal) => server.serverBootstrap(kamal) },
    {
      name: 'exec',
      description: 'Run a custom command on the server',
      arguments: [{ name: '<cmd...>' }],
      // `server exec date -j`: -j belongs to the command, as with Kamal
      allowUnknownOption: true,
      options: [
        { flags: '-i, --interactive', description: 'Run the command interactively (use for console/bash)' },
        { flags: '--raw', description: 'Output raw, unmodified stdout' },
      ],
      run: (kamal, options, args) =>
        server.serverExec(kamal, args.map((word) => word.trim()).join(' '), { interactive: !!options.interactive, raw: !!options.raw }),
    },
  ],
};
