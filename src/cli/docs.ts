/**
 * `docs [SECTION]`: a short summary of each configuration section of config/deploy.yml, the keys
 * it takes, and the page of Kamal's documentation that describes it in full.
 */

interface Section {
  title: string;
  /** Page under https://kamal-deploy.org/docs/configuration/ */
  page: string;
  summary: string;
  keys: string[];
}

const SECTIONS: Record<string, Section> = {
  configuration: {
    title: 'Configuration',
    page: 'overview',
    summary:
      'config/deploy.yml (and config/deploy.<destination>.yml merged over it with -d) describes the app:\n' +
      'its name, image, servers, registry and how it is built and booted. Files are rendered as ERB first.',
    keys: [
      'service, image, labels, volumes, asset_path, error_pages_path',
      'servers (see `docs servers`), registry, env, builder, proxy, accessories, ssh, sshkit, boot, logging, output, aliases',
      'hooks_path, hooks_output, secrets_path, require_destination, primary_role, allow_empty_roles',
      'retain_containers, minimum_version, readiness_delay, deploy_timeout, drain_timeout, stop_timeout, run_directory',
      'keys starting with x- are ignored (for YAML anchors)',
    ],
  },
  accessory: {
    title: 'Accessories',
    page: 'accessories',
    summary:
      'Long-lived services next to the app (databases, caches), under accessories/<name>. They are booted\n' +
      'once and left alone by deploys; manage them with `accessory boot|reboot|remove <name>`.',
    keys: [
      'image, host | hosts | role | roles | tag | tags, service, cmd, port, network, labels, options',
      'env (clear, secret, tags), files (uploaded, .erb rendered), directories, volumes, registry, proxy',
    ],
  },
  alias: {
    title: 'Aliases',
    page: 'aliases',
    summary:
      'Shortcuts for command lines: `aliases: { console: app exec -i --reuse "bin/rails console" }`\nthen `kamal-action console`. An alias cannot replace a built-in command.',
    keys: ['<name>: <command line>'],
  },
  boot: {
    title: 'Booting',
    page: 'booting',
    summary: 'How a deploy rolls out over many hosts: in groups of `limit` hosts (a number or a percentage),\nwaiting `wait` seconds between groups.',
    keys: ['limit, wait, parallel_roles'],
  },
  builder: {
    title: 'Builders',
    page: 'builders',
    summary:
      'How the image is built with docker buildx: for which architectures, locally or on a remote\nbuilder over SSH, with which Dockerfile, context, build args and build secrets.',
    keys: ['arch, remote, local, context, dockerfile, target, args, secrets, ssh, cache (type, options), driver, pack, provenance, sbom'],
  },
  env: {
    title: 'Environment variables',
    page: 'environment-variables',
    summary:
      'Variables for the app containers: `clear` values are written as they are, `secret` names are read\n' +
      'from .kamal/secrets (NAME or ALIAS:NAME) and never shown; `tags` add variables to tagged hosts.',
    keys: ['clear, secret, tags (at the root, per role, per accessory)'],
  },
  logging: {
    title: 'Logging',
    page: 'logging',
    summary: "Docker's logging driver and its options for the app containers (default: --log-opt max-size=10m).",
    keys: ['driver, options'],
  },
  output: {
    title: 'Output',
    page: 'overview',
    summary: 'Where the log of each command is also sent: an OpenTelemetry endpoint or a local folder.',
    keys: ['otel (endpoint), file (path)'],
  },
  proxy: {
    title: 'Proxy',
    page: 'proxy',
    summary:
      'kamal-proxy routes requests to the app containers and switches traffic without downtime. `host` or\n' +
      "`hosts` name the app, `ssl: true` gets a Let's Encrypt certificate, `run` sets how the proxy itself runs.",
    keys: [
      'host, hosts, app_port, ssl (true or certificate_pem/private_key_pem), ssl_redirect, forward_headers',
      'response_timeout, path_prefix, strip_path_prefix, healthcheck (path, interval, timeout), buffering, logging, run',
    ],
  },
  registry: {
    title: 'Registry',
    page: 'registry',
    summary:
      'Where images are pushed and pulled. username and password may name secrets ([NAME]); a\n' +
      'server of localhost:PORT runs a registry here and reaches the hosts through SSH tunnels.',
    keys: ['server, username, password'],
  },
  role: {
    title: 'Roles',
    page: 'roles',
    summary:
      'A role is a group of hosts running the same image with its own command, env, labels, options,\nlogging and proxy settings. web is the primary role unless primary_role says otherwise.',
    keys: ['hosts, cmd, env, labels, options, logging, proxy, asset_path'],
  },
  servers: {
    title: 'Servers',
    page: 'servers',
    summary:
      'The hosts to deploy to: a list (all in the web role) or a mapping of role names to hosts or role\nsettings. A host may carry tags (`- 10.0.0.1: [eu]`) for tagged env.',
    keys: ['<role>: [hosts] | { hosts, cmd, ... }'],
  },
  ssh: {
    title: 'SSH',
    page: 'ssh',
    summary: 'How the hosts are reached: user, port, a jump host or proxy command, and which keys to use.',
    keys: ['user, port, proxy, proxy_command, log_level, keys_only, keys, key_data, config, forward_agent'],
  },
  sshkit: {
    title: 'SSHKit',
    page: 'sshkit',
    summary: 'Connection pool settings: how many connections start at once, how long idle ones are kept,\nand how many times a DNS failure is retried.',
    keys: ['max_concurrent_starts, pool_idle_timeout, dns_retries'],
  },
};

const ALIASES: Record<string, string> = {
  accessories: 'accessory',
  aliases: 'alias',
  builders: 'builder',
  booting: 'boot',
  roles: 'role',
  overview: 'configuration',
};

const URL = 'https://kamal-deploy.org/docs/configuration/';

function render(name: string, s: Section): string {
  return [`# ${s.title} (${name})`, '', s.summary, '', 'Keys:', ...s.keys.map((k) => `  ${k}`), '', `Full documentation: ${URL}${s.page}/`, ''].join('\n');
}

/** The text `docs [SECTION]` prints, and whether the section was found. */
export function docsText(section?: string): { text: string; found: boolean } {
  if (section === undefined) {
    const list = Object.keys(SECTIONS)
      .filter((n) => n !== 'configuration')
      .join(', ');
    return { text: `${render('configuration', SECTIONS.configuration!)}\nSections: ${list} (\`docs SECTION\`)\n`, found: true };
  }
  const key = section.toLowerCase();
  const name = SECTIONS[key] ? key : ALIASES[key];
  if (!name) return { text: `No documentation found for ${section}\nSections: ${Object.keys(SECTIONS).join(', ')}\n`, found: false };
  return { text: render(name, SECTIONS[name]!), found: true };
}
