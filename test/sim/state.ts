/**
 * The state a deploy leaves on a simulated host, in a form two deploys can be compared by:
 * containers by name (ids left out; the random suffix of `--hostname` left out), image tags with
 * their labels, networks, volumes, registry logins, kamal-proxy's services with the names of
 * their target containers, and files with their modes and contents (audit log timestamps and the
 * random suffix of containers renamed out of the way left out).
 */
import type { SimHost } from './host.js';

export interface HostState {
  containers: Record<string, unknown>[];
  images: Record<string, Record<string, string>>;
  danglingImages: number;
  networks: string[];
  volumes: string[];
  logins: string[];
  proxy: Record<string, { target: string; args: string[] }>;
  files: Record<string, { mode: string; content?: string }>;
}

export function hostState(h: SimHost): HostState {
  const containers = [...h.containers]
    .sort((a, b) => normalizeName(a.name).localeCompare(normalizeName(b.name)))
    .map((c) => ({
      name: normalizeName(c.name),
      image: c.image,
      status: c.status,
      labels: c.labels,
      env: c.env,
      envFiles: c.envFiles,
      network: c.network,
      hostname: c.hostname?.replace(/-[0-9a-f]{12}$/, '-<random>'),
      volumes: c.volumes,
      publish: c.publish,
      logOpts: c.logOpts,
      restart: c.restart,
      command: c.command,
      options: c.options,
    }));
  const images: Record<string, Record<string, string>> = {};
  for (const [tag, id] of [...h.tags].sort()) images[tag] = h.images.get(id)!.labels;
  const tagged = new Set(h.tags.values());
  const files: HostState['files'] = {};
  for (const [path, e] of [...h.files].sort(([a], [b]) => a.localeCompare(b))) {
    const mode = e.mode.toString(8).padStart(4, '0');
    if (e.dir) files[path] = { mode };
    else files[path] = { mode, content: path.endsWith('-audit.log') ? normalizeAudit(e.content) : e.content };
  }
  const proxy: HostState['proxy'] = {};
  for (const [s, v] of [...h.proxy].sort()) proxy[s] = { target: normalizeName(v.target), args: v.args };
  return {
    containers,
    images,
    danglingImages: [...h.images.keys()].filter((id) => !tagged.has(id)).length,
    networks: [...h.networks].sort(),
    volumes: [...h.volumes].sort(),
    logins: [...h.logins.keys()].sort(),
    proxy,
    files,
  };
}

/** A container renamed out of the way (`app-web-v1_replaced_<16 hex>`) without its random suffix. */
export function normalizeName(name: string): string {
  return name.replace(/_replaced_[0-9a-f]{16}$/, '_replaced_<random>');
}

/** Audit lines without their timestamps (`[2026-...Z] [who] message` -> `[who] message`) and rename suffixes. */
export function normalizeAudit(text: string): string {
  return text.replace(/^\[\d{4}-\d\d-\d\dT[\d:]+Z\] /gm, '').replace(/_replaced_[0-9a-f]{16}\b/g, '_replaced_<random>');
}
