/**
 * Runs a simulated fleet in its own process (so a deploy tool measured against it has the CPU
 * and memory of its process to itself):
 *   node --import tsx test/sim/serve.ts --hosts N [--base 100] [--dir D] [--scale 1] [--seed 1]
 * With an IPC channel (child_process.fork), it sends {ready, addresses, keyFile, knownHostsFile}
 * once listening, and answers {type: 'snapshot'} with per-host stats, records and states, and
 * {type: 'reset'} by forgetting every host's state. Without one it prints the ready line as JSON
 * and serves until killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fleet } from './fleet.js';
import { simRegistry } from './project.js';
import { hostState } from './state.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const options = {
  hosts: Number(arg('hosts', '1')),
  base: Number(arg('base', '100')),
  dir: arg('dir', mkdtempSync(join(tmpdir(), 'sim-fleet-'))),
  latencyScale: Number(arg('scale', '1')),
  seed: Number(arg('seed', '1')),
};
let fleet = await Fleet.start({ ...options, registry: simRegistry() });
const ready = { ready: true, addresses: fleet.addresses, keyFile: fleet.keyFile, knownHostsFile: fleet.knownHostsFile, dir: options.dir };

if (process.send) {
  process.send(ready);
  process.on('message', async (m: { type: string; states?: boolean }) => {
    if (m.type === 'snapshot') {
      process.send!({
        type: 'snapshot',
        stats: fleet.stats(),
        unmodelled: fleet.unmodelled(),
        connectionErrors: fleet.connections.filter((c) => c.error).map((c) => ({ host: c.host, error: c.error })),
        records: fleet.hosts.flatMap((h) => h.records.map((r) => ({ ...r, stderr: r.exitCode ? r.stderr.slice(-300) : '' }))),
        states: m.states ? fleet.hosts.map((h) => ({ host: h.name, state: hostState(h) })) : undefined,
        rssMb: process.memoryUsage().rss / 1048576,
        cpuMs: (() => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1000;
        })(),
      });
    } else if (m.type === 'reset') {
      await fleet.stop();
      fleet = await Fleet.start({ ...options, registry: simRegistry(), dir: options.dir });
      process.send!({ type: 'reset', ready: true, knownHostsFile: fleet.knownHostsFile, keyFile: fleet.keyFile });
    } else if (m.type === 'stop') {
      await fleet.stop();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
} else {
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}
