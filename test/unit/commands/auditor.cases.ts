// Ported from Kamal's test/commands/auditor_test.rb (v2.12.0).
import { Auditor, type TagValue } from '../../../src/commands/index.js';
import { Configuration } from '../../../src/model/index.js';
import type { KamalCase } from './parity.js';

const RECORDED_AT = '2024-05-01T10:20:30Z';
const PERFORMER = 'dhh@example.com';

function newCommand(opts: { destination?: string; details?: Record<string, TagValue> } = {}): Auditor {
  const config = new Configuration(
    { service: 'app', image: 'dhh/app', registry: { username: 'dhh', password: 'secret' }, builder: { arch: 'amd64' }, servers: ['1.1.1.1'] },
    { destination: opts.destination, version: '123' },
  );
  return new Auditor(config, opts.details ?? {}, { performer: PERFORMER, recordedAt: new Date(RECORDED_AT) });
}

export const auditorCases: KamalCase[] = [
  {
    test: 'record',
    run: () => newCommand().record('app removed container'),
    expected: `mkdir -p .kamal && echo "[${RECORDED_AT}] [${PERFORMER}] app removed container" >> .kamal/app-audit.log`,
  },
  {
    test: 'record with destination',
    run: () => newCommand({ destination: 'staging' }).record('app removed container'),
    expected: `mkdir -p .kamal && echo "[${RECORDED_AT}] [${PERFORMER}] [staging] app removed container" >> .kamal/app-staging-audit.log`,
  },
  {
    test: 'record with command details',
    run: () => newCommand({ details: { role: 'web' } }).record('app removed container'),
    expected: `mkdir -p .kamal && echo "[${RECORDED_AT}] [${PERFORMER}] [web] app removed container" >> .kamal/app-audit.log`,
  },
  {
    test: 'record with arg details',
    run: () => newCommand().record('app removed container', { detail: 'value' }),
    expected: `mkdir -p .kamal && echo "[${RECORDED_AT}] [${PERFORMER}] [value] app removed container" >> .kamal/app-audit.log`,
  },
];
