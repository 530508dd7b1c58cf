// `npm run demo`: brings up the local lab, deploys the sample app at version 1 to two hosts,
// then version 2 under live traffic through kamal-proxy, and prints what a user needs.
// Its last line reads `requests: N served, M failed` for the traffic sent during the deploys.
import { ensureLab, LAB_JSON, type LabInfo } from '../test/lab/lab.js';
import { Traffic, httpGet, makeProject, proxyRunYaml, resetHosts } from '../test/e2e/helpers.js';
import { runCli } from '../src/cli/run.js';
import type { BootRecord } from '../src/engine/app.js';

const HOST = 'demo.lab.test';
const VERSIONS = ['demo-v1', 'demo-v2'];

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

async function deploy(dir: string, info: LabInfo, version: string): Promise<{ ok: boolean; seconds: number; boots: BootRecord[] }> {
  const started = Date.now();
  const r = await runCli(['deploy', '--version', version], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VERSION: version,
      LAB_REGISTRY_PASSWORD: info.registry.password,
    },
    options: { knownHostsFile: info.ssh.knownHosts },
  });
  return { ok: r.exitCode === 0, seconds: (Date.now() - started) / 1000, boots: r.kamal?.boots ?? [] };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  say('== lab');
  const info = await ensureLab({ hosts: 3 });
  process.env.LAB_JSON = LAB_JSON;
  const hosts = info.hosts.slice(0, 2);
  say(`lab ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: hosts ${hosts.map((h) => h.ip).join(', ')}, registry ${info.registry.server}`);
  resetHosts(hosts);

  const dir = makeProject({
    service: 'demo',
    yaml: `servers:
  web:
${hosts.map((h) => `    - ${h.ip}`).join('\n')}
proxy:
  host: ${HOST}
  app_port: 80
  healthcheck:
    interval: 1
${proxyRunYaml()}
readiness_delay: 0
drain_timeout: 5
`,
  });
  say(`project: ${dir}`);

  const results: { version: string; ok: boolean; seconds: number; boots: BootRecord[] }[] = [];
  say(`\n== deploy ${VERSIONS[0]}`);
  results.push({ version: VERSIONS[0]!, ...(await deploy(dir, info, VERSIONS[0]!)) });
  if (!results[0]!.ok) {
    say(`\ndeploy of ${VERSIONS[0]} failed`);
    say('requests: 0 served, 0 failed');
    return 1;
  }

  say(`\n== deploy ${VERSIONS[1]} under live traffic`);
  const traffic = new Traffic(
    hosts.map((h) => ({ ip: h.ip, host: HOST })),
    { maxRequests: 100_000, maxMs: 5 * 60_000, pauseMs: 5 },
  ).start();
  results.push({ version: VERSIONS[1]!, ...(await deploy(dir, info, VERSIONS[1]!)) });
  const totals = await traffic.stop();

  say('\n== result');
  say(`URL: http://${HOST}/ on ${hosts.map((h) => h.ip).join(' and ')}   (curl -H 'Host: ${HOST}' http://${hosts[0]!.ip}/)`);
  for (const r of results) {
    say(`${r.version}: ${r.ok ? 'deployed' : 'FAILED'} in ${r.seconds.toFixed(1)} s`);
    for (const b of r.boots) {
      const took = b.finishedAt ? ((b.finishedAt - b.startedAt) / 1000).toFixed(1) : '-';
      say(`  ${b.host} (${b.role}): ${b.previousVersion ?? 'none'} -> ${b.version} ${b.ok ? 'ok' : `failed: ${b.error ?? ''}`} (${took} s)`);
    }
  }
  for (const h of hosts) {
    const now = await httpGet(h.ip, '/', HOST).catch((e: Error) => ({ status: 0, body: e.message }));
    say(`${h.ip} serves: ${now.status} ${now.body.trim()}`);
  }
  const seen = [...traffic.versions.entries()].map(([v, n]) => `${v}: ${n}`).join(', ');
  say(`responses by version: ${seen || 'none'}`);
  for (const f of traffic.failures.slice(0, 5)) say(`  failed request: ${f}`);
  say(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  say(`requests: ${totals.served} served, ${totals.failed} failed`);
  return results.every((r) => r.ok) && totals.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.stdout.write('requests: 0 served, 0 failed\n');
    process.exit(1);
  },
);
