/** Which app versions are on the hosts: the running one and the stopped ones a rollback can return to. */
import type { Kamal } from '../engine/kamal.js';
import { MemoryReporter, type Reporter } from '../engine/reporter.js';
import type { CliDeps, CliResult } from '../cli/run.js';

export interface HostVersions {
  /** The version running on the primary role's primary host. */
  running?: string;
  /** Stopped versions there, newest first (containers renamed `_replaced_` left out). */
  stopped: string[];
}

/**
 * Reads `docker container ls --all` output (`kamal app containers`): the last column
 * is the container name `<service>-<role>[-<destination>]-<version>`, newest first.
 * `prefixes` are every role's `<service>-<role>[-<destination>]`; `prefix` the one wanted.
 */
export function parseContainerListing(output: string, prefix: string, prefixes: readonly string[]): HostVersions {
  const result: HostVersions = { stopped: [] };
  const longest = [...prefixes].sort((a, b) => b.length - a.length);
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('CONTAINER ID')) continue;
    const name = trimmed.split(/\s+/).pop()!;
    const owner = longest.find((p) => name.startsWith(`${p}-`));
    if (owner !== prefix) continue;
    const version = name.slice(prefix.length + 1);
    if (version === '' || version.includes('_replaced_')) continue;
    const running = /\s(Up|Restarting)\s/.test(` ${trimmed} `);
    if (running) result.running ??= version;
    else if (!result.stopped.includes(version)) result.stopped.push(version);
  }
  if (result.running) result.stopped = result.stopped.filter((v) => v !== result.running);
  return result;
}

export type RunCli = (argv: string[], deps: CliDeps) => Promise<CliResult>;

/**
 * Runs `app containers` (read-only, no lock) and returns the versions on the primary
 * role's primary host. The config file, destination and version come as `deps.options`.
 * Throws when the listing fails.
 */
export async function versionsOnHosts(runCli: RunCli, deps: Omit<CliDeps, 'reporter'> & { reporter?: Reporter }): Promise<HostVersions> {
  const memory = new MemoryReporter(deps.reporter);
  let k: Kamal | undefined;
  const r = await runCli(['app', 'containers', '--primary'], {
    ...deps,
    reporter: memory,
    onContext: (kamal) => {
      k = kamal;
      deps.onContext?.(kamal);
    },
  });
  if (r.exitCode !== 0 || !k) {
    throw r.error instanceof Error ? r.error : new Error('listing the app containers failed');
  }
  const kamal: Kamal = k;
  const role = kamal.config.primaryRole;
  const host = kamal.config.primaryHost;
  if (!role || !host) return { stopped: [] };
  const output = memory.outputs
    .filter((o) => o.host === host)
    .map((o) => o.output)
    .join('\n');
  return parseContainerListing(
    output,
    role.containerPrefix,
    kamal.config.roles.map((x) => x.containerPrefix),
  );
}
