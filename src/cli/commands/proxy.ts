/** `proxy` (Kamal::Cli::Proxy): kamal-proxy on the servers. */
import * as proxy from '../../engine/proxy.js';
import { proxyBootConfig } from '../../engine/proxy-boot-config.js';
import { CONFIRMED, int, logsOptions, thorBoolean, type CommandGroup, type CommandSpec } from './table.js';

const ROLLING = { flags: '--rolling', description: 'Reboot proxy on hosts in sequence, rather than in parallel' };

// hidden, as in Kamal
const removals: CommandSpec[] = (
  [
    ['remove_container', 'Remove proxy container from servers', proxy.proxyRemoveContainer],
    ['remove_image', 'Remove proxy image from servers', proxy.proxyRemoveImage],
    ['remove_proxy_directory', 'Remove the proxy directory from servers', proxy.proxyRemoveProxyDirectory],
  ] as const
).map(([name, description, remove]) => ({ name, description, hidden: true, run: (kamal) => remove(kamal) }));

export const proxyCommands: CommandGroup = {
  name: 'proxy',
  description: 'Manage kamal-proxy',
  commands: [
    { name: 'boot', description: 'Boot proxy on servers', run: (kamal) => proxy.proxyBoot(kamal) },
    {
      name: 'reboot',
      description: 'Reboot proxy on servers (stop container, remove container, start new container)',
      options: [ROLLING, CONFIRMED],
      run: (kamal, options) => proxy.proxyReboot(kamal, { rolling: !!options.rolling }),
    },
    { name: 'start', description: 'Start existing proxy container on servers', run: (kamal) => proxy.proxyStart(kamal) },
    { name: 'stop', description: 'Stop existing proxy container on servers', run: (kamal) => proxy.proxyStop(kamal) },
    { name: 'restart', description: 'Restart existing proxy container on servers', run: (kamal) => proxy.proxyRestart(kamal) },
    {
      name: 'upgrade',
      description: 'Upgrade to kamal-proxy on servers (stop container, remove container, start new container, reboot app)',
      hidden: true,
      options: [ROLLING, CONFIRMED],
      run: (kamal, options) => proxy.proxyUpgrade(kamal, { rolling: !!options.rolling }),
    },
    { name: 'details', description: 'Show details about proxy container from servers', run: (kamal) => proxy.proxyDetails(kamal) },
    {
      name: 'logs',
      description: 'Show log lines from proxy on servers',
      options: [
        { flags: '-s, --since <since>', description: 'Show logs since timestamp or relative' },
        { flags: '-n, --lines <lines>', description: 'Number of log lines to pull from each server', parse: int('lines') },
        { flags: '-g, --grep <grep>', description: 'Show lines with grep match only' },
        { flags: '-f, --follow [follow]', description: 'Follow logs on primary server (or specific host set by --hosts)' },
        { flags: '-T, --skip-timestamps', description: 'Skip appending timestamps to logging output' },
      ],
      run: (kamal, options) => proxy.proxyLogs(kamal, logsOptions(options)),
    },
    {
      name: 'remove',
      description: 'Remove proxy container and image from servers',
      options: [{ flags: '--force', description: 'Force removing proxy when apps are still installed' }],
      run: (kamal, options) => proxy.proxyRemove(kamal, { force: !!options.force }),
    },
    ...removals,
    {
      name: 'boot_config',
      description: 'Manage kamal-proxy boot configuration (deprecated: use proxy/run in the config)',
      arguments: [{ name: '<subcommand>', description: 'set, get or reset' }],
      options: [
        { flags: '--publish [bool]', description: 'Publish the proxy ports on the host (default true)', parse: thorBoolean('publish') },
        { flags: '--no-publish', description: 'Do not publish the proxy ports on the host' },
        { flags: '--publish-host-ip <ip...>', description: 'Host IP address to bind HTTP/HTTPS traffic to' },
        { flags: '--http-port <port>', description: 'HTTP port to publish on the host', parse: int('http-port'), default: 80 },
        { flags: '--https-port <port>', description: 'HTTPS port to publish on the host', parse: int('https-port'), default: 443 },
        { flags: '--log-max-size <size>', description: 'Max size of proxy logs', default: '10m' },
        { flags: '--registry <registry>', description: 'Registry to use for the proxy image' },
        { flags: '--repository <repository>', description: 'Repository for the proxy image' },
        { flags: '--image-version <version>', description: 'Version of the proxy to run' },
        { flags: '--metrics-port <port>', description: 'Port to report prometheus metrics on', parse: int('metrics-port') },
        { flags: '--debug [bool]', description: 'Whether to run the proxy in debug mode', parse: thorBoolean('debug') },
        { flags: '--docker-options <options...>', description: 'Docker options to pass to the proxy container (option=value)', default: [] },
      ],
      run: (kamal, options, args) => proxyBootConfig(kamal, args[0]!, options),
    },
  ],
};
