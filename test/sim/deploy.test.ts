/**
 * Deploys to simulated hosts over real SSH (ssh2's server on 127.0.x.y:22) and compares the state
 * every host is left in with what Kamal 2.12 leaves: the fixture holds the commands real Kamal sent
 * to a 20-host fleet (deploys of v1, v2, v3, then v1 again) and the states it left, recorded by
 * record-kamal.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { MemoryReporter } from '../../src/engine/reporter.js';
import { Fleet } from './fleet.js';
import { SimHost } from './host.js';
import { simRegistry, writeSimProject } from './project.js';
import { FIXTURE_BASE, FIXTURE_HOSTS } from './record-kamal.js';
import { hostState, type HostState } from './state.js';

interface Fixture {
  kamal: string;
  versions: string[];
  hosts: {
    host: string;
    records: { command: string; exitCode: number; stdin?: string; scp?: { name: string; mode: number; content: string }[] }[];
    state: HostState;
  }[];
}
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/kamal-deploy-20.json'), 'utf8')) as Fixture;

async function deploy(fleet: Fleet, project: string, version: string): Promise<void> {
  const r = await runCli(['deploy', '--skip-push', '--version', version], {
    cwd: project,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KAMAL_ACTION_KNOWN_HOSTS: fleet.knownHostsFile },
    reporter: new MemoryReporter(),
    out: () => {},
    err: () => {},
  });
  if (r.exitCode !== 0) throw new Error(`deploy ${version} failed: ${String((r.error as Error | undefined)?.message ?? r.exitCode)}`);
}

describe("Kamal's recorded deploy, replayed through the model", () => {
  it('was recorded from Kamal 2.12 on 20 hosts', () => {
    expect(fixture.kamal).toBe('2.12.0');
    expect(fixture.hosts).toHaveLength(FIXTURE_HOSTS);
  });

  it('leaves every host in the state Kamal left, with the exit codes Kamal saw', async () => {
    for (const h of fixture.hosts) {
      const host = new SimHost(h.host, simRegistry());
      const codes: number[] = [];
      for (const r of h.records) codes.push(await host.replay(r));
      expect(host.unmodelled).toEqual([]);
      expect(codes).toEqual(h.records.map((r) => r.exitCode));
      expect(hostState(host)).toEqual(h.state);
    }
  });
});

describe('our deploys to 20 simulated hosts', () => {
  let fleet: Fleet;
  let project: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-deploy-'));
    fleet = await Fleet.start({ hosts: FIXTURE_HOSTS, base: FIXTURE_BASE, dir: join(dir, 'keys'), registry: simRegistry(), latencyScale: 0 });
    project = writeSimProject(join(dir, 'p'), { hosts: fleet.addresses, keyFile: fleet.keyFile, knownHostsFile: fleet.knownHostsFile });
    for (const v of fixture.versions) await deploy(fleet, project, v);
  }, 120_000);
  afterAll(async () => fleet?.stop());

  it('sends only commands the model knows', () => {
    expect(fleet.unmodelled()).toEqual([]);
  });

  it("leaves every host in exactly the state Kamal's deploy left", () => {
    fixture.hosts.forEach((h, i) => {
      // the fleet may have moved to other addresses (another fleet had these): Kamal's state, at ours
      const address = fleet.addresses[i]!;
      const expected = JSON.parse(JSON.stringify(h.state).replaceAll(h.host, address)) as HostState;
      expect({ host: address, state: hostState(fleet.host(address)) }).toEqual({ host: address, state: expected });
    });
  });

  it('ends with v1 behind kamal-proxy again, the earlier v1 renamed out of the way, the others stopped', () => {
    for (const h of fleet.hosts) {
      expect(h.proxy.get('app-web')?.target).toBe('app-web-v1');
      expect(h.containers.map((c) => `${c.name.replace(/[0-9a-f]{16}$/, 'X')}:${c.status}`).sort()).toEqual([
        'app-web-v1:running',
        'app-web-v1_replaced_X:exited',
        'app-web-v2:exited',
        'app-web-v3:exited',
        'kamal-proxy:running',
      ]);
    }
  });
});
