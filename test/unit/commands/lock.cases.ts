// Ported from Kamal's test/commands/lock_test.rb (v2.12.0).
import { Lock } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { render } from '../../../src/shell.js';
import type { KamalCase } from './parity.js';

const base = () => ({
  service: 'app',
  image: 'dhh/app',
  registry: { username: 'dhh', password: 'secret' },
  servers: ['1.1.1.1'],
  builder: { arch: 'amd64' },
});

function newCommand(): Lock {
  return new Lock(new Configuration(base(), { version: '123', destination: 'production' }));
}

function nonAsciiLockDetails(): boolean {
  const command = render(newCommand().acquire('Hello', '123', { lockedBy: 'Сергей Федоров' }));
  const encoded = /echo "(.*)" > \.kamal\/lock-app-production\/details/s.exec(command)?.[1] ?? '';
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(command) && Buffer.from(encoded, 'base64').toString('utf8').includes('Locked by: Сергей Федоров');
}

export const lockCases: KamalCase[] = [
  {
    test: 'status',
    run: () => newCommand().status(),
    expected: 'stat .kamal/lock-app-production > /dev/null && cat .kamal/lock-app-production/details | base64 -d',
  },
  {
    test: 'acquire',
    run: () => newCommand().acquire('Hello', '123'),
    expected: /mkdir \.kamal\/lock-app-production && echo ".*" > \.kamal\/lock-app-production\/details/,
  },
  { test: 'acquire encodes non-ASCII lock details for shell', run: () => nonAsciiLockDetails(), expected: true },
  { test: 'release', run: () => newCommand().release(), expected: 'rm .kamal/lock-app-production/details && rm -r .kamal/lock-app-production' },
];
