/** `user@host:port`, `host:port`, `user@host`, `host`, `[v6addr]:port` or a bare IPv6 address. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

export function parseHostSpec(spec: string, defaults: { user: string; port: number }): SshTarget {
  let rest = spec.trim();
  if (!rest) throw new Error('empty host');
  let user = defaults.user;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) throw new Error(`empty user in host "${spec}"`);
  }
  let host = rest;
  let port = defaults.port;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else {
    const colons = rest.split(':').length - 1;
    if (colons === 1) {
      const [h, p] = rest.split(':') as [string, string];
      if (!/^\d+$/.test(p)) throw new Error(`invalid port in host "${spec}"`);
      host = h;
      port = Number(p);
    }
    // two or more colons: a bare IPv6 address
  }
  if (!host) throw new Error(`empty host name in "${spec}"`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port in host "${spec}"`);
  return { user, host, port };
}

export function formatTarget(t: SshTarget): string {
  const h = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user}@${h}:${t.port}`;
}
