import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshPoolOptions } from '../../../src/cli/ssh-options.js';
import { Configuration } from '../../../src/model/index.js';
import { cmd } from '../../../src/shell.js';
import { SshPool } from '../../../src/ssh/pool.js';
import {
  DEFAULT_SSH_CONFIG_FILES,
  hostConfig,
  hostLineMatches,
  matchLineMatches,
  resolveHost,
  sshConfigFiles,
  type ConfigFs,
  type ExplicitSsh,
  type HostConfig,
} from '../../../src/ssh/ssh-config.js';
import { newKeyPair, tempDir, TestSshServer, writeKnownHosts, type KeyPair } from './test-server.js';

/** An in-memory file tree: home /home/me, working folder /work/app. */
function memFs(files: Record<string, string>): ConfigFs & { reads: string[] } {
  const reads: string[] = [];
  return {
    home: '/home/me',
    cwd: '/work/app',
    reads,
    read(path) {
      reads.push(path);
      return files[path];
    },
    glob(pattern) {
      if (!/[*?]/.test(pattern)) return files[pattern] !== undefined ? [pattern] : [];
      const re = new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')}$`,
      );
      return Object.keys(files).filter((f) => re.test(f));
    },
  };
}

const USER_CONFIG = '/home/me/.ssh/config';

describe('ssh.config: which files', () => {
  it.each([
    [undefined, [...DEFAULT_SSH_CONFIG_FILES]],
    [null, [...DEFAULT_SSH_CONFIG_FILES]],
    [true, ['~/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config']],
    [false, []],
    ['~/config.mine', ['~/config.mine']],
    [
      ['~/config.mine.1', 'config/ssh'],
      ['~/config.mine.1', 'config/ssh'],
    ],
  ])('%j reads %j', (setting, files) => {
    expect(sshConfigFiles(setting as never)).toEqual(files);
  });

  it('reads the default files in net-ssh order, ~ from the home folder, and skips missing ones', () => {
    const fs = memFs({ '/etc/ssh/ssh_config': 'Host *\n  Port 2200\n' });
    expect(hostConfig('a', sshConfigFiles(true), fs)).toEqual({ port: 2200 });
    expect(fs.reads).toEqual(['/home/me/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config']);
  });

  it('takes a relative path from the working folder', () => {
    const fs = memFs({ '/work/app/config/ssh_config': 'Host a\n  HostName 10.0.0.1\n' });
    expect(hostConfig('a', sshConfigFiles('config/ssh_config'), fs)).toEqual({ hostName: '10.0.0.1' });
  });
});

describe('ssh.config: Host patterns', () => {
  it.each([
    [['web-alias'], 'web-alias', true],
    [['web-alias'], 'web-alias2', false],
    [['WEB-Alias'], 'web-alias', true],
    [['web-*'], 'web-1', true],
    [['web-*'], 'db-1', false],
    [['web-?'], 'web-1', true],
    [['web-?'], 'web-', false],
    [['web-?'], 'web-12', false],
    [['*'], 'anything', true],
    [['*.example.com'], 'a.example.com', true],
    [['*.example.com'], 'aexample.com', false],
    [['a', 'b'], 'b', true],
    [['* ', '!bastion'].map((s) => s.trim()), 'bastion', false],
    [['*', '!bastion'], 'web', true],
    [['!bastion'], 'web', false],
    [['10.0.0.*', '!10.0.0.5'], '10.0.0.5', false],
    [['10.0.0.*', '!10.0.0.5'], '10.0.0.6', true],
  ])('Host %j matches %s: %s', (patterns, host, expected) => {
    expect(hostLineMatches(patterns, host)).toBe(expected);
  });

  it.each([
    [['all'], 'x', true],
    [['host', 'a*,b'], 'b', true],
    [['host', 'a*,b'], 'c', false],
    [['host', '!c'], 'd', true],
    [['host', '!c'], 'c', false],
    [['host', 'a*', 'host', '!ab'], 'ab', false],
    [['host', 'a*', 'host', '!ab'], 'ac', true],
    [['exec', 'true'], 'a', false],
    [['host', 'a', 'exec', 'false'], 'a', true],
  ])('Match %j for %s: %s', (words, host, expected) => {
    expect(matchLineMatches(words, host)).toBe(expected);
  });

  it('refuses Match all mixed with other criteria', () => {
    expect(() => matchLineMatches(['host', 'a', 'all'], 'a')).toThrow(/Match all cannot be mixed/);
  });
});

describe('ssh.config: what a host gets', () => {
  const table: [string, string, Record<string, string>, HostConfig][] = [
    [
      'an alias: HostName, User, Port, IdentityFile with ~ expanded',
      'web-alias',
      { [USER_CONFIG]: 'Host web-alias\n  HostName 127.0.0.2\n  User deploy\n  Port 2222\n  IdentityFile ~/.ssh/lab_key\n' },
      { hostName: '127.0.0.2', user: 'deploy', port: 2222, identityFiles: ['/home/me/.ssh/lab_key'] },
    ],
    [
      'the first matching block wins for each key',
      'web-1',
      { [USER_CONFIG]: 'Host web-1\n  Port 2201\nHost web-*\n  Port 2200\n  User app\nHost *\n  User nobody\n  HostName %h.internal\n' },
      { port: 2201, user: 'app', hostName: 'web-1.internal' },
    ],
    [
      'a matching block beats a global line before it (net-ssh), globals fill the rest',
      'web',
      { [USER_CONFIG]: 'User global\nPort 2022\nHost web\n  User blockuser\n' },
      { user: 'blockuser', port: 2022 },
    ],
    [
      'IdentityFile accumulates: globals first, then every matching block in order',
      'web',
      {
        [USER_CONFIG]:
          'IdentityFile ~/.ssh/global\nHost web\n  IdentityFile ~/.ssh/web\nHost other\n  IdentityFile ~/.ssh/other\nHost *\n  IdentityFile /keys/all\n  IdentityFile keys/relative\n',
      },
      { identityFiles: ['/home/me/.ssh/global', '/home/me/.ssh/web', '/keys/all', '/work/app/keys/relative'] },
    ],
    [
      'ProxyJump and ProxyCommand share one slot: the first seen wins',
      'web',
      { [USER_CONFIG]: 'Host web\n  ProxyCommand ssh -W %h:%p bastion\nHost *\n  ProxyJump other\n' },
      { proxy: { type: 'command', command: 'ssh -W %h:%p bastion' } },
    ],
    [
      'ProxyJump keeps its list',
      'web',
      { [USER_CONFIG]: 'Host web\n  ProxyJump deploy@j1:2222,j2\n  ProxyCommand nc %h %p\n' },
      { proxy: { type: 'jump', jumps: 'deploy@j1:2222,j2' } },
    ],
    [
      'ProxyCommand none takes the slot and means no proxy',
      'bastion',
      { [USER_CONFIG]: 'Host bastion\n  ProxyCommand none\nHost *\n  ProxyJump bastion\n' },
      { proxy: { type: 'none' } },
    ],
    [
      'a negated pattern keeps the jump host itself direct',
      'bastion',
      { [USER_CONFIG]: 'Host * !bastion\n  ProxyJump bastion\nHost bastion\n  HostName 10.0.0.1\n' },
      { hostName: '10.0.0.1' },
    ],
    [
      'key=value, quoted values, keys in any case, IdentitiesOnly and ConnectTimeout',
      'web',
      { [USER_CONFIG]: 'host web\n  HOSTNAME=10.1.1.1\n  identityfile "~/my keys/id"\n  IdentitiesOnly yes\n  ConnectTimeout 7\n' },
      { hostName: '10.1.1.1', identityFiles: ['/home/me/my keys/id'], identitiesOnly: true, connectTimeoutSeconds: 7 },
    ],
    [
      'Match host blocks apply; Match exec is never run',
      'web',
      { [USER_CONFIG]: 'Match exec "touch /tmp/x"\n  User execuser\nMatch host web\n  User matched\n' },
      { user: 'matched' },
    ],
    [
      'Include, relative to the file folder, with wildcards, in order',
      'web',
      {
        [USER_CONFIG]: 'Include conf.d/*.conf\nHost web\n  Port 2200\n',
        '/home/me/.ssh/conf.d/10-web.conf': 'Host web\n  HostName 10.2.2.2\n  Port 2210\n',
        '/home/me/.ssh/conf.d/20-all.conf': 'Host *\n  User included\n  HostName ignored\n',
      },
      { hostName: '10.2.2.2', port: 2200, user: 'included' },
    ],
    ['nothing when no block matches', 'db', { [USER_CONFIG]: 'Host web\n  HostName 10.0.0.1\n' }, {}],
  ];

  it.each(table)('%s', (_name, host, files, expected) => {
    expect(hostConfig(host, [USER_CONFIG], memFs(files))).toEqual(expected);
  });

  it('a file that cannot be parsed is named in the error', () => {
    expect(() => hostConfig('a', [USER_CONFIG], memFs({ [USER_CONFIG]: 'Host "unterminated\n  Port 2\n' }))).toThrow(
      /^cannot read ssh config \/home\/me\/\.ssh\/config: Unexpected line break/,
    );
  });

  it('across files, the first file that sets a key wins', () => {
    const fs = memFs({
      '/a': 'Host web\n  Port 1111\n',
      '/b': 'User fromb\nHost web\n  Port 2222\n  HostName 10.0.0.9\n',
    });
    expect(hostConfig('web', ['/a', '/b'], fs)).toEqual({ port: 1111, user: 'fromb', hostName: '10.0.0.9' });
    expect(hostConfig('web', ['/b', '/a'], fs)).toEqual({ port: 2222, user: 'fromb', hostName: '10.0.0.9' });
  });
});

describe('ssh.config: explicit options win (Net::SSH.start merges the config under them)', () => {
  const files = {
    [USER_CONFIG]: [
      'Host web-alias',
      '  HostName 127.0.0.2',
      '  User deploy',
      '  Port 2222',
      '  IdentityFile ~/.ssh/lab_key',
      '  IdentitiesOnly yes',
      'Host behind',
      '  HostName vm2',
      '  ProxyJump jump-alias',
      'Host jump-alias',
      '  HostName 127.0.0.3',
      '  User jumper',
      '  Port 2200',
      '  IdentityFile ~/.ssh/jump_key',
      'Host via-command',
      '  ProxyCommand nc %h %p',
      '',
    ].join('\n'),
  };
  const lookup = (host: string): HostConfig => hostConfig(host, [USER_CONFIG], memFs(files));
  // Kamal always passes user and port: root and 22 unless ssh.user / ssh.port say otherwise.
  const kamal: ExplicitSsh = { user: 'root', port: 22 };

  const table: [string, string, ExplicitSsh, object][] = [
    [
      "Kamal's user and port beat User and Port; HostName, IdentityFile and IdentitiesOnly apply",
      'web-alias',
      kamal,
      { target: { host: '127.0.0.2', user: 'root', port: 22 }, keys: ['/home/me/.ssh/lab_key'], keysOnly: true, jumps: [] },
    ],
    [
      'without explicit user and port, the file gives them',
      'web-alias',
      {},
      { target: { host: '127.0.0.2', user: 'deploy', port: 2222 }, keys: ['/home/me/.ssh/lab_key'], keysOnly: true, jumps: [] },
    ],
    [
      'the host string own user and port come first',
      'app@web-alias:2022',
      kamal,
      { target: { host: '127.0.0.2', user: 'app', port: 2022 }, keys: ['/home/me/.ssh/lab_key'], keysOnly: true, jumps: [] },
    ],
    [
      'ssh.keys and ssh.keys_only replace IdentityFile and IdentitiesOnly',
      'web-alias',
      { ...kamal, keys: ['~/.ssh/kamal'], keysOnly: false },
      { target: { host: '127.0.0.2', user: 'root', port: 22 }, keys: ['~/.ssh/kamal'], keysOnly: false, jumps: [] },
    ],
    [
      'a host the files do not know stays as written, with no keys (default identities)',
      '10.9.9.9',
      kamal,
      { target: { host: '10.9.9.9', user: 'root', port: 22 }, jumps: [] },
    ],
    [
      'ProxyJump: the jump host resolved through the files, its User, Port and IdentityFile apply',
      'behind',
      kamal,
      {
        target: { host: 'vm2', user: 'root', port: 22 },
        jumps: [{ spec: 'jump-alias', target: { host: '127.0.0.3', user: 'jumper', port: 2200 }, keys: ['/home/me/.ssh/jump_key'] }],
      },
    ],
    [
      'ssh.proxy beats ProxyJump; its hosts still resolve through the files, root by default',
      'behind',
      { ...kamal, proxy: 'root@jump-alias,10.0.0.1' },
      {
        target: { host: 'vm2', user: 'root', port: 22 },
        jumps: [
          { spec: 'root@jump-alias', target: { host: '127.0.0.3', user: 'root', port: 2200 }, keys: ['/home/me/.ssh/jump_key'] },
          { spec: '10.0.0.1', target: { host: '10.0.0.1', user: 'root', port: 22 } },
        ],
      },
    ],
    [
      'ssh.proxy_command beats ProxyJump',
      'behind',
      { ...kamal, proxyCommand: 'ssh -W %h:%p gw' },
      { target: { host: 'vm2', user: 'root', port: 22 }, jumps: [], proxyCommand: 'ssh -W %h:%p gw' },
    ],
    ['ProxyCommand from the file', 'via-command', kamal, { target: { host: 'via-command', user: 'root', port: 22 }, jumps: [], proxyCommand: 'nc %h %p' }],
  ];

  it.each(table)('%s', (_name, spec, explicit, expected) => {
    expect(resolveHost(spec, explicit, lookup, { localUser: 'me' })).toEqual(expected);
  });

  it('a ProxyJump host without a user anywhere logs in as the local user, as ssh -J does', () => {
    const fs = memFs({ [USER_CONFIG]: 'Host web\n  ProxyJump gw\n' });
    const r = resolveHost('web', kamal, (h) => hostConfig(h, [USER_CONFIG], fs), { localUser: 'me' });
    expect(r.jumps).toEqual([{ spec: 'gw', target: { host: 'gw', user: 'me', port: 22 } }]);
  });

  it('ConnectTimeout applies unless a connect timeout is set explicitly', () => {
    const look = (): HostConfig => ({ connectTimeoutSeconds: 5 });
    expect(resolveHost('a', kamal, look, { localUser: 'me' }).connectTimeoutMs).toBe(5000);
    expect(resolveHost('a', { ...kamal, connectTimeoutMs: 1000 }, look, { localUser: 'me' }).connectTimeoutMs).toBe(1000);
  });
});

describe('ssh.config through the configuration', () => {
  const base = { service: 'app', image: 'app', servers: ['web-alias'], registry: { username: 'u', password: 'p' }, builder: { arch: 'amd64' } };

  it.each([
    [undefined, ['/home/me/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config']],
    [true, ['/home/me/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config']],
    [false, []],
    ['config/ssh', ['/work/app/config/ssh']],
    [
      ['~/a', '/b'],
      ['/home/me/a', '/b'],
    ],
  ])('ssh.config %j reads %j', (setting, read) => {
    const ssh = setting === undefined ? {} : { config: setting };
    const config = new Configuration({ ...base, ssh }, { version: 'v' });
    const fs = memFs({});
    sshPoolOptions(config, {}, {}, fs).hostConfig!('web-alias');
    expect(fs.reads).toEqual(read);
  });
});

describe('SshPool with ssh.config (real SSH server on 127.0.0.1)', () => {
  let clientKey: KeyPair;
  let server: TestSshServer;
  let dir: string;
  let keyFile: string;
  let knownHostsFile: string;

  beforeAll(async () => {
    clientKey = newKeyPair();
    server = await TestSshServer.start({ authorizedKeys: [clientKey.public], user: 'deploy' });
    dir = tempDir();
    keyFile = join(dir, 'id_alias');
    writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
    knownHostsFile = writeKnownHosts(dir, [server.knownHostsLine()]);
  });

  afterAll(async () => {
    await server.close();
  });

  it('connects to an alias with the HostName, Port and IdentityFile of the file; explicit user wins over User', async () => {
    const fs = memFs({ [USER_CONFIG]: `Host web-alias\n  HostName 127.0.0.1\n  Port ${server.port}\n  User nobody\n  IdentityFile ${keyFile}\n` });
    const lookup = (h: string): HostConfig => hostConfig(h, [USER_CONFIG], fs);
    const pool = new SshPool({ user: 'deploy', agent: false, knownHostsFiles: [knownHostsFile], connectTimeoutMs: 10_000, hostConfig: lookup });
    try {
      const r = await pool.run('web-alias', cmd('echo', 'via-alias'));
      expect(r.stdout).toBe('via-alias\n');
      expect(r.host).toBe('web-alias');
    } finally {
      await pool.close();
    }
  });

  it('reaches a host through the ProxyJump alias of the file, the jump host resolved through the file too', async () => {
    const jump = await TestSshServer.start({ authorizedKeys: [clientKey.public], allowForwarding: true, user: 'root' });
    try {
      const known = writeKnownHosts(dir, [server.knownHostsLine(), jump.knownHostsLine()], 'jump_known_hosts');
      const fs = memFs({
        [USER_CONFIG]: [
          'Host behind',
          '  HostName 127.0.0.1',
          `  Port ${server.port}`,
          '  ProxyJump jump-alias',
          `  IdentityFile ${keyFile}`,
          'Host jump-alias',
          '  HostName 127.0.0.1',
          `  Port ${jump.port}`,
          '  User root',
          `  IdentityFile ${keyFile}`,
          '',
        ].join('\n'),
      });
      const pool = new SshPool({
        user: 'deploy',
        agent: false,
        knownHostsFiles: [known],
        connectTimeoutMs: 10_000,
        hostConfig: (h) => hostConfig(h, [USER_CONFIG], fs),
      });
      try {
        const r = await pool.run('behind', cmd('echo', 'through-jump'));
        expect(r.stdout).toBe('through-jump\n');
        expect(jump.forwards).toBe(1);
        expect(jump.commands).toEqual([]);
        expect(server.commands.at(-1)).toContain('through-jump');
      } finally {
        await pool.close();
      }
    } finally {
      await jump.close();
    }
  });

  it('fails to log in when the file names no key and none is given (the IdentityFile is what made it work)', async () => {
    const fs = memFs({ [USER_CONFIG]: `Host web-alias\n  HostName 127.0.0.1\n  Port ${server.port}\n` });
    const pool = new SshPool({
      user: 'deploy',
      agent: false,
      keys: [join(dir, 'missing')],
      knownHostsFiles: [knownHostsFile],
      connectTimeoutMs: 10_000,
      hostConfig: (h) => hostConfig(h, [USER_CONFIG], fs),
    });
    try {
      await expect(pool.run('web-alias', cmd('true'))).rejects.toThrow(/authentication failed for user "deploy" at 127\.0\.0\.1:/);
    } finally {
      await pool.close();
    }
  });
});
