import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeSshFiles, writeSshFiles } from '../../../src/action/ssh-files.js';
import { getInputs } from '../../../src/action/inputs.js';
import { sshOptions } from '../../../src/action/run-main.js';
import { parseContainerListing } from '../../../src/action/versions.js';

describe('SSH files', () => {
  it('writes key and known_hosts with mode 600 in a private folder', () => {
    const base = mkdtempSync(join(tmpdir(), 'ssh-files-'));
    const f = writeSshFiles({ key: 'KEY\n', knownHosts: 'h ssh-ed25519 AAAA\n', base })!;
    expect(statSync(f.dir).mode & 0o777).toBe(0o700);
    expect(statSync(f.key!).mode & 0o777).toBe(0o600);
    expect(statSync(f.knownHosts!).mode & 0o777).toBe(0o600);
    expect(readFileSync(f.key!, 'utf8')).toBe('KEY\n');
    expect(
      sshOptions(
        getInputs(() => ''),
        f,
      ),
    ).toEqual({ hostKeyChecking: 'strict', sshKeyFile: f.key, knownHostsFile: f.knownHosts });
    removeSshFiles(f.dir);
    expect(existsSync(f.dir)).toBe(false);
  });
  it('writes nothing without inputs, and still sets the checking mode', () => {
    expect(writeSshFiles({})).toBeUndefined();
    const inputs = getInputs((name) => (name === 'ssh-host-key-checking' ? 'accept-new' : ''));
    expect(sshOptions(inputs, undefined)).toEqual({ hostKeyChecking: 'accept-new', sshKeyFile: undefined, knownHostsFile: undefined });
  });
  it('refuses to remove other folders', () => {
    expect(() => removeSshFiles('/tmp')).toThrow('not a kamal-action SSH folder');
  });
});

describe('parseContainerListing', () => {
  const out = [
    'CONTAINER ID   IMAGE            COMMAND       CREATED         STATUS                     PORTS   NAMES',
    'a1   r/app:v3   "start"   1 minute ago    Up 1 minute (healthy)      80/tcp  app-web-staging-v3',
    'a2   r/app:v2   "start"   5 minutes ago   Exited (0) 1 minute ago            app-web-staging-v2_replaced_00ff',
    'a3   r/app:v2   "start"   6 minutes ago   Exited (0) 1 minute ago            app-web-staging-v2',
    'a4   r/app:v1   "start"   9 minutes ago   Exited (137) 5 minutes ago         app-web-api-staging-v1',
    'a5   r/app:1-2  "start"   9 minutes ago   Created                            app-web-staging-1-2',
    'a6   r/app:v0   "start"   20 minutes ago  Exited (0) 9 minutes ago           app-web-staging-v0',
    'a7   r/app:v3   "start"   1 minute ago    Exited (0) 1 minute ago            app-web-staging-v3',
  ].join('\n');
  it('finds the running version and the stopped ones newest first, of the wanted role only', () => {
    expect(parseContainerListing(out, 'app-web-staging', ['app-web-staging', 'app-web-api-staging'])).toEqual({
      running: 'v3',
      stopped: ['v2', '1-2', 'v0'],
    });
  });
  it('nothing running', () => {
    expect(parseContainerListing('', 'app-web', ['app-web'])).toEqual({ stopped: [] });
  });
});
