// Accessory files ending in `erb` are rendered before upload as Kamal's
// Configuration::Accessory#read_dynamic_file does: ERB.new(text).result (no trim
// mode), with the accessory's env (clear and secret) set in ENV, in the app folder.
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { RecordingRunner } from '../../../test/support/recording.js';
import { copyFixture } from '../cli/helpers.js';

const CONFIG = `service: app
image: dhh/app
servers:
  - 1.1.1.1
registry:
  username: user
  password: pw
builder:
  arch: amd64
accessories:
  mysql:
    image: mysql:8
    host: 1.1.1.3
    env:
      clear:
        MYSQL_ROOT_HOST: '%'
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - config/mysql/my.cnf.erb:/etc/mysql/my.cnf
`;

/** A PATH with `cat` and no ruby. */
function withoutRuby(): string {
  const bin = mkdtempSync(join(tmpdir(), 'kamal-erb-bin-'));
  symlinkSync('/bin/cat', join(bin, 'cat'));
  return bin;
}

async function upload(template: string, path = process.env.PATH) {
  const dir = copyFixture();
  writeFileSync(join(dir, 'config/deploy.yml'), CONFIG);
  writeFileSync(join(dir, 'config/mysql/my.cnf.erb'), template);
  writeFileSync(join(dir, '.kamal/secrets'), 'MYSQL_ROOT_PASSWORD=secret-pw\n');
  writeFileSync(join(dir, 'VERSION_FILE'), 'v7\n');
  const runner = new RecordingRunner();
  let err = '';
  const result = await runCli(['accessory', 'upload', 'mysql'], {
    cwd: dir,
    env: { PATH: path, HOME: process.env.HOME, VERSION: '999' },
    runner,
    local: new RecordingRunner(),
    reporter: new MemoryReporter(),
    out: () => undefined,
    err: (s) => (err += s),
  });
  return { result, err, uploaded: runner.files.get('1.1.1.3:app-mysql/etc/mysql/my.cnf')?.content.toString() };
}

describe('accessory .erb files', () => {
  it('see the accessory env and run in the app folder, without Ruby', async () => {
    const r = await upload(
      '[mysqld]\n<% if ENV["MYSQL_ROOT_HOST"] == "%" %>\nbind = <%= ENV["MYSQL_ROOT_HOST"] %>\n<% end %>\npw = <%= ENV.fetch("MYSQL_ROOT_PASSWORD") %>\nv = <%= `cat VERSION_FILE`.strip %>\n',
      withoutRuby(),
    );
    expect(r.uploaded).toBe('[mysqld]\n\nbind = %\n\npw = secret-pw\nv = v7\n');
  });

  it('have no trim mode: -%> is Ruby code there', async () => {
    const r = await upload('a = <%= ENV["MYSQL_ROOT_HOST"] -%>\n', '/nowhere');
    expect(r.uploaded).toBeUndefined();
    expect(r.err).toContain(`config/mysql/my.cnf.erb:1: <%= ENV["MYSQL_ROOT_HOST"] -%> needs Ruby`);
  });

  it('anything else is rendered by Ruby, with the same env and folder', async () => {
    const r = await upload('host = <%= ENV["MYSQL_ROOT_HOST"] * 2 %>\nv = <%= File.read("VERSION_FILE").strip %>\n');
    expect(r.uploaded).toBe('host = %%\nv = v7\n');
  });
});
