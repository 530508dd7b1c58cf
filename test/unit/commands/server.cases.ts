// Ported from Kamal's test/commands/server_test.rb (v2.12.0).
import { Server } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import type { KamalCase } from './parity.js';

function newCommand(): Server {
  return new Server(
    new Configuration({
      service: 'app',
      image: 'dhh/app',
      registry: { username: 'dhh', password: 'secret' },
      servers: ['1.1.1.1'],
      builder: { arch: 'amd64' },
    }),
  );
}

export const serverCases: KamalCase[] = [{ test: 'ensure run directory', run: () => newCommand().ensureRunDirectory(), expected: 'mkdir -p .kamal' }];
