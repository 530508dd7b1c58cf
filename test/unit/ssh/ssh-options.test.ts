import { describe, expect, it } from 'vitest';
import { sshPoolOptions } from '../../../src/cli/ssh-options.js';
import { Configuration } from '../../../src/model/index.js';

const base = { service: 'app', image: 'app', servers: ['1.1.1.1'], registry: { username: 'u', password: 'p' }, builder: { arch: 'amd64' } };

describe('sshPoolOptions', () => {
  it('puts the action key file before the keys of the config', () => {
    const config = new Configuration({ ...base, ssh: { keys: ['~/.ssh/deploy'], keys_only: true, user: 'deploy', port: 2222 } }, { version: 'v' });
    const o = sshPoolOptions(config, {}, { KAMAL_ACTION_SSH_KEY: '/tmp/kamal-action-ssh-x/key' });
    expect(o.keys).toEqual(['/tmp/kamal-action-ssh-x/key', '~/.ssh/deploy']);
    expect(o.keysOnly).toBe(true);
    expect(o.user).toBe('deploy');
    expect(o.port).toBe(2222);
  });

  it('uses the action key alone when the config names none, and the config keys without it', () => {
    const config = new Configuration(base, { version: 'v' });
    expect(sshPoolOptions(config, {}, { KAMAL_ACTION_SSH_KEY: '/k' }).keys).toEqual(['/k']);
    expect(sshPoolOptions(config, {}, {}).keys).toBeUndefined();
  });

  it('takes host key checking and known_hosts from the flags first, then the environment, strict by default', () => {
    const config = new Configuration(base, { version: 'v' });
    expect(sshPoolOptions(config, {}, {}).hostKeyChecking).toBe('strict');
    expect(sshPoolOptions(config, {}, { KAMAL_ACTION_HOST_KEY_CHECKING: 'accept-new' }).hostKeyChecking).toBe('accept-new');
    const o = sshPoolOptions(
      config,
      { hostKeyChecking: 'strict', knownHostsFile: '/a' },
      { KAMAL_ACTION_HOST_KEY_CHECKING: 'accept-new', KAMAL_ACTION_KNOWN_HOSTS: '/b' },
    );
    expect(o.hostKeyChecking).toBe('strict');
    expect(o.knownHostsFiles).toEqual(['/a']);
  });
});
