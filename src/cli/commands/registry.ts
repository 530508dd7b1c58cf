/** `registry` (Kamal::Cli::Registry): docker login and logout, or the local registry. */
import * as registry from '../../engine/registry.js';
import type { CommandGroup, OptionSpec } from './table.js';

const SKIP: OptionSpec[] = [
  { flags: '-L, --skip-local', description: 'Skip local login' },
  { flags: '-R, --skip-remote', description: 'Skip remote login' },
];

export const registryCommands: CommandGroup = {
  name: 'registry',
  description: 'Login and -out of the image registry',
  commands: (
    [
      ['login', 'Log in to remote registry locally and remotely', registry.registryLogin],
      ['setup', 'Setup local registry or log in to remote registry locally and remotely', registry.registrySetup],
      ['logout', 'Log out of remote registry locally and remotely', registry.registryLogout],
      ['remove', 'Remove local registry or log out of remote registry locally and remotely', registry.registryRemove],
    ] as const
  ).map(([name, description, operation]) => ({
    name,
    description,
    options: SKIP,
    run: (kamal, options) => operation(kamal, { skipLocal: !!options.skipLocal, skipRemote: !!options.skipRemote }),
  })),
};
