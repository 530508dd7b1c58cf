/**
 * kamal-proxy refuses a deploy whose host (and path prefix) another service already routes:
 * `host settings conflict with another service`. It happens after a role or service is renamed
 * (the old name still holds the route) or when two apps claim one host name. This turns the
 * proxy's one-line refusal into an error that names the service holding the route and the fix.
 */
import { docker } from '../commands/base.js';
import { BootError } from '../errors.js';
import { CommandFailedError } from '../exec/types.js';
import type { Kamal } from './kamal.js';

const CONFLICT = 'host settings conflict with another service';

export interface ProxyRoute {
  service: string;
  host: string;
  path: string;
}

/** Rows of `kamal-proxy list` (a table headed `Service Host Path Target State TLS`). */
export function parseProxyList(text: string): ProxyRoute[] {
  const rows: ProxyRoute[] = [];
  for (const line of text.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    const [service, host, path] = line.trim().split(/\s+/);
    if (!service || !host || service === 'Service') continue;
    rows.push({ service, host, path: path ?? '/' });
  }
  return rows;
}

/** The message for a refused deploy: which service holds the route and what to run. */
export function conflictMessage(opts: { host: string; service: string; holders: ProxyRoute[]; proxyContainer: string }): string {
  const { host, service, proxyContainer } = opts;
  const others = [...new Set(opts.holders.filter((r) => r.service !== service).map((r) => r.service))];
  const head = `kamal-proxy on ${host} refused to route ${service}: ${CONFLICT}.`;
  if (others.length === 0) {
    return `${head} Another service already routes the same host and path; list them with: docker exec ${proxyContainer} kamal-proxy list`;
  }
  const routes = opts.holders
    .filter((r) => others.includes(r.service))
    .map((r) => `${r.service} (${r.host === '*' ? 'every host' : r.host}${r.path && r.path !== '/' ? r.path : ''})`);
  return (
    `${head} ${routes.join(', ')} already routes it, as after a renamed role or service, or another app on the same host name. ` +
    `If it is the old name of this app, remove its route and stop its containers on ${host}: ` +
    others.map((o) => `docker exec ${proxyContainer} kamal-proxy remove ${o}`).join('; ') +
    `; otherwise give this app another proxy host.`
  );
}

/** Routes of other services on any of `hosts` (none: the wildcard route). */
export function conflictingRoutes(routes: ProxyRoute[], service: string, hosts: readonly string[]): ProxyRoute[] {
  const wanted = hosts.length > 0 ? hosts : ['*'];
  return routes.filter((r) => r.service !== service && r.host.split(',').some((h) => wanted.includes(h)));
}

/** Rethrows `e`, explained when it is the proxy's host conflict for `service` routing `hosts`. */
export async function explainProxyConflict(kamal: Kamal, host: string, service: string, hosts: readonly string[], e: unknown): Promise<never> {
  if (!(e instanceof CommandFailedError) || !`${e.stderr}\n${e.stdout}`.includes(CONFLICT)) throw e;
  const proxyContainer = kamal.config.proxyBoot.containerName;
  let holders: ProxyRoute[] = [];
  try {
    const r = await kamal.exec(host, docker('exec', proxyContainer, 'kamal-proxy', 'list'), { allowFailure: true });
    if (r.exitCode === 0) holders = conflictingRoutes(parseProxyList(r.stdout), service, hosts);
  } catch {
    // the explanation is best effort; the proxy's own words stay in the message
  }
  throw new BootError(conflictMessage({ host, service, holders, proxyContainer }));
}
