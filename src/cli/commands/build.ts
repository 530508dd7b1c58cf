/** `build` (Kamal::Cli::Build): the app image and the builder that makes it. */
import * as build from '../../engine/build.js';
import { NO_CACHE, type CommandGroup } from './table.js';

export const buildCommands: CommandGroup = {
  name: 'build',
  description: 'Build application image',
  commands: [
    {
      name: 'deliver',
      description: 'Build app and push app image to registry then pull image on servers',
      options: [NO_CACHE],
      run: (kamal, options) => build.buildDeliver(kamal, { noCache: options.cache === false }),
    },
    {
      name: 'push',
      description: 'Build and push app image to registry',
      options: [NO_CACHE, { flags: '--output <type>', description: 'Exported type for the build result', default: 'registry' }],
      run: (kamal, options) => build.buildPush(kamal, { noCache: options.cache === false, output: options.output as string }),
    },
    { name: 'pull', description: 'Pull app image from registry onto servers', run: (kamal) => build.buildPull(kamal) },
    { name: 'create', description: 'Create a build setup', run: (kamal) => build.buildCreate(kamal) },
    { name: 'remove', description: 'Remove build setup', run: (kamal) => build.buildRemove(kamal) },
    { name: 'details', description: 'Show build setup', run: (kamal) => build.buildDetails(kamal) },
    {
      name: 'dev',
      description: 'Build using the working directory, tag it as dirty, and push to local image store.',
      options: [
        {
          flags: '--output <type>',
          description: "Exported type for the build result, and may be any exported type supported by 'buildx --output'.",
          default: 'docker',
        },
        NO_CACHE,
      ],
      run: (kamal, options) => build.buildDev(kamal, { noCache: options.cache === false, output: options.output as string }),
    },
  ],
};
