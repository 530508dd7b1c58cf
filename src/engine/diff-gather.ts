/**
 * `diff`: reads what runs on the hosts, with read-only commands only (docker ps and inspect, the
 * env files hashed line by line on the host, kamal-proxy's state), and compares it with what a
 * deploy would do (diff.ts). No lock, no audit line, nothing written on any host.
 */
import { docker } from '../commands/base.js';
import { hostPathWord } from '../model/utils.js';
import { cmd, pipe, raw, type Command, type SimpleCommand } from '../shell.js';
import type { Kamal } from './kamal.js';
import { preflight } from './preflight.js';
import {
  computeDiff,
  redactReport,
  type ContainerInspect,
  type DiffReport,
  type HostFacts,
  type ImageConfig,
  type ProxyServiceState,
  type RunningContainer,
  type ServiceContainer,
} from './diff.js';

/** kamal-proxy keeps its services here, in the proxy container. */
export const PROXY_STATE_FILE = '/home/kamal-proxy/.config/kamal-proxy/kamal-proxy.state';

/** Reads `KEY=value` lines and prints `KEY <sha256>` for each: the values stay on the host. */
const HASH_LINES = 'while IFS= read -r line; do printf \'%s \' "${line%%=*}"; printf \'%s\' "$line" | sha256sum; done';

/** `docker inspect` of what a diff reads, without the env (it holds the secrets). */
const INSPECT_FORMAT =
  '{"Name":{{json .Name}},"Image":{{json .Image}},"State":{{json .State}},' +
  '"Config":{"Image":{{json .Config.Image}},"Labels":{{json .Config.Labels}},"Cmd":{{json .Config.Cmd}},"Entrypoint":{{json .Config.Entrypoint}},' +
  '"User":{{json .Config.User}},"Hostname":{{json .Config.Hostname}},"WorkingDir":{{json .Config.WorkingDir}},"StopSignal":{{json .Config.StopSignal}}},' +
  '"HostConfig":{{json .HostConfig}}}';

/** The read-only commands of a diff. */
export const diffCommands = {
  home: (): SimpleCommand => cmd('pwd'),
  serviceContainers: (service: string, destination: string | undefined): SimpleCommand =>
    docker(
      'ps',
      '--all',
      '--filter',
      `label=service=${service}`,
      '--filter',
      `label=destination=${destination ?? ''}`,
      '--format',
      '{{.Names}} {{.Label "role"}} {{.State}}',
    ),
  inspect: (container: string): SimpleCommand => docker('inspect', '--type', 'container', '--format', INSPECT_FORMAT, container),
  envHashes: (container: string): Command =>
    pipe(docker('inspect', '--type', 'container', '--format', '{{range .Config.Env}}{{println .}}{{end}}', container), cmd(raw(HASH_LINES))),
  imageConfig: (image: string): SimpleCommand => docker('image', 'inspect', '--format', '{{json .Config}}', image),
  envFileHashes: (path: string): SimpleCommand => cmd(raw(HASH_LINES), raw('<'), hostPathWord(path)),
  proxyState: (container: string): SimpleCommand => docker('exec', container, 'cat', PROXY_STATE_FILE),
};

/** `KEY <sha256>  -` lines into key → hash. */
export function parseHashLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const [key, hash] = line.trim().split(/\s+/);
    if (key && hash && /^[0-9a-f]{64}$/.test(hash)) out[key] = hash;
  }
  return out;
}

export function parseServiceContainers(text: string): ServiceContainer[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length >= 3 && p[0])
    .map(([name, role, state]) => ({ name: name!, role: role!, state: state! }));
}

async function readContainer(k: Kamal, host: string, name: string, envFile: string): Promise<Omit<RunningContainer, 'version'> | null> {
  const inspectText = await k.capture(host, diffCommands.inspect(name), { allowFailure: true });
  if (!inspectText) return null;
  const inspect = JSON.parse(inspectText) as ContainerInspect;
  const env = parseHashLines(await k.capture(host, diffCommands.envHashes(name), { allowFailure: true }));
  let image: ImageConfig | undefined;
  if (inspect.Image) {
    const text = await k.capture(host, diffCommands.imageConfig(inspect.Image), { allowFailure: true });
    if (text) image = JSON.parse(text) as ImageConfig;
  }
  const file = await k.exec(host, diffCommands.envFileHashes(envFile), { allowFailure: true });
  return { inspect, env, ...(image ? { image } : {}), envFile: file.exitCode === 0 ? parseHashLines(file.stdout) : null };
}

/** Everything a diff needs from one host. */
export async function gatherHost(k: Kamal, host: string, accessories: readonly string[]): Promise<HostFacts> {
  const config = k.config;
  const facts: HostFacts = { host, containers: [], roles: {}, accessories: {} };
  facts.home = (await k.capture(host, diffCommands.home(), { allowFailure: true })) || undefined;
  facts.containers = parseServiceContainers(await k.capture(host, diffCommands.serviceContainers(config.service, config.destination ?? undefined)));
  const roles = k.rolesOn(host);
  for (const role of roles) {
    const version = (await k.capture(host, k.cmds.app(role, host).currentRunningVersion(), { allowFailure: true })) || undefined;
    if (!version) continue;
    const running = await readContainer(k, host, role.containerName(version), role.secretsPath);
    if (running) facts.roles[role.name] = { version, ...running };
  }
  if (roles.some((r) => r.runningProxy)) {
    const state = await k.exec(host, diffCommands.proxyState(config.proxyBoot.containerName), { allowFailure: true });
    if (state.exitCode === 0) {
      try {
        const parsed = JSON.parse(state.stdout || '[]') as ProxyServiceState[] | null;
        facts.proxy = parsed ?? [];
      } catch {
        facts.proxy = undefined;
      }
    }
  }
  for (const name of accessories) {
    const acc = config.accessory(name);
    if (!acc?.hosts.includes(host)) continue;
    facts.accessories[name] = await readContainer(k, host, acc.serviceName, acc.secretsPath);
  }
  return facts;
}

/** `kamal-action diff`: the report of what a deploy of the configured version would change. */
export async function diff(k: Kamal): Promise<DiffReport> {
  preflight(k, { version: true });
  const accessories = k.specificRoles ? [] : k.config.accessoryNames;
  const hosts = k.hosts;
  const facts: HostFacts[] = [];
  await k.on(hosts, async (host) => {
    try {
      facts.push(await gatherHost(k, host, accessories));
    } catch (e) {
      facts.push({ host, error: k.secrets.redact(e instanceof Error ? e.message : String(e)), containers: [], roles: {}, accessories: {} });
    }
  });
  const report = redactReport(computeDiff({ config: k.config, roles: k.roles, hosts, accessories, facts }), k.secrets);
  k.diffReport = report;
  return report;
}
