// Ported from Kamal's test/commands/hook_test.rb (v2.12.0).
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Hook } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import { MapSecretStore, Secret } from '../../../src/secret.js';
import type { KamalCase } from './parity.js';

const RECORDED_AT = '2024-05-01T10:20:30Z';
const PERFORMER = 'dhh@example.com';
const SOURCE = { performer: PERFORMER, recordedAt: new Date(RECORDED_AT) };

function newCommand(extra: Record<string, any> = {}, secrets: Record<string, string> = {}): Hook {
  const raw = {
    service: 'app',
    image: 'dhh/app',
    registry: { username: 'dhh', password: 'secret' },
    servers: ['1.1.1.1'],
    builder: { arch: 'amd64' },
    ...extra,
  };
  return new Hook(new Configuration(raw, { version: '123', secrets: new MapSecretStore(secrets) }));
}

function revealed(env: Record<string, string | Secret>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v instanceof Secret ? v.reveal() : v]));
}

export const hookCases: KamalCase[] = [
  { test: 'run', run: () => newCommand().run('foo'), expected: '.kamal/hooks/foo' },
  {
    test: 'env',
    run: () => newCommand().env(SOURCE),
    expected: { KAMAL_RECORDED_AT: RECORDED_AT, KAMAL_PERFORMER: PERFORMER, KAMAL_VERSION: '123', KAMAL_SERVICE_VERSION: 'app@123', KAMAL_SERVICE: 'app' },
  },
  { test: 'run with custom hooks_path', run: () => newCommand({ hooks_path: 'custom/hooks/path' }).run('foo'), expected: 'custom/hooks/path/foo' },
  {
    test: 'env with secrets',
    run: () => revealed(newCommand({}, { DB_PASSWORD: 'secret' }).env(SOURCE, { secrets: true })),
    expected: {
      KAMAL_RECORDED_AT: RECORDED_AT,
      KAMAL_PERFORMER: PERFORMER,
      KAMAL_VERSION: '123',
      KAMAL_SERVICE_VERSION: 'app@123',
      KAMAL_SERVICE: 'app',
      DB_PASSWORD: 'secret',
    },
  },
];
