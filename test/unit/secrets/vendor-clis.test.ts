/**
 * The real CLI (`node --import tsx src/cli/main.ts secrets fetch ...`, the source entry the e2e
 * tests use) against small vendor CLIs written as shell scripts on PATH: the default runner
 * goes through `sh -c`, each script logs the words it received, and the JSON printed is checked.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

let dir: string;
let bin: string;
let log: string;

/** A vendor CLI: logs `[word]` per argument (and BW_SESSION when set), then runs `body`. */
function vendor(name: string, body: string): void {
  const file = join(bin, name);
  writeFileSync(
    file,
    `#!/bin/sh
{ printf '%s' '${name}'; [ -n "$BW_SESSION" ] && printf ' BW_SESSION=%s' "$BW_SESSION"; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >> "${log}"
${body}
`,
  );
  chmodSync(file, 0o755);
}

function kamal(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'secrets', ...args], {
    cwd: ROOT,
    env: { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: dir, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : [];
  rmSync(log, { force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kamal-vendor-'));
  bin = join(dir, 'bin');
  log = join(dir, 'calls.log');
  mkdirSync(bin);

  vendor(
    'op',
    `case "$1 $2" in
  "--version "*) echo 2.30.0 ;;
  "account get") exit 0 ;;
  "item get")
    case "$3" in
      myitem) printf '%s\\n' '[{"label":"A","value":"va","reference":"op://Prod Vault/myitem/s/A"},{"label":"B","value":"v\\"b","reference":"op://Prod Vault/myitem/s/B"}]' ;;
      *) echo "[ERROR] \\"$3\\" isn't an item" >&2; exit 1 ;;
    esac ;;
esac`,
  );

  vendor(
    'bw',
    `case "$1" in
  --version) echo 2024.9.0 ;;
  status) if [ "$BW_SESSION" = "tok=" ]; then echo '{"status":"unlocked"}'; else echo '{"status":"locked"}'; fi ;;
  unlock) echo 'tok=' ;;
  sync) echo 'Syncing complete.' ;;
  get) [ "$BW_SESSION" = "tok=" ] || exit 1
       printf '{"name":"%s","login":{"password":"pw of %s"}}\\n' "$3" "$3" ;;
esac`,
  );

  vendor(
    'aws',
    `case "$1" in
  --version) echo aws-cli/2.17.0 ;;
  secretsmanager) printf '%s\\n' '{"SecretValues":[{"Name":"app/prod","SecretString":"{\\"DB_PASSWORD\\":\\"s3cr3t\\",\\"PORT\\":5432}"}],"Errors":[]}' ;;
esac`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// each test starts node with tsx once or twice; on a busy machine that takes seconds
describe('secrets fetch with vendor CLIs on PATH', { timeout: 60_000 }, () => {
  it('1password: sign-in check, one `op item get` per item, keys vault/item/section/field', () => {
    const r = kamal(['fetch', '--adapter', '1password', '--account', 'my.1password.com', '--from', 'op://Prod Vault/myitem', 's/A', 's/B']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"Prod Vault/myitem/s/A":"va","Prod Vault/myitem/s/B":"v\\"b"}\n');
    expect(r.calls).toEqual([
      'op [--version]',
      'op [account] [get] [--account] [my.1password.com]',
      'op [item] [get] [myitem] [--vault] [Prod Vault] [--format] [json] [--account] [my.1password.com] [--fields] [label=s.A,label=s.B]',
    ]);
  });

  it("1password: a failed read exits 1 with Kamal's message", () => {
    const r = kamal(['fetch', '--adapter', '1password', '--account', 'a', '--from', 'op://v/other', 'F']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Error: Could not read F from other in the v 1Password vault');
  });

  it('bitwarden: locked, unlocked with --raw, the session passed as BW_SESSION to status, sync and get', () => {
    const r = kamal(['fetch', '--adapter', 'bitwarden', '--account', 'me@example.com', 'db', 'api key']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"db":"pw of db","api key":"pw of api key"}\n');
    expect(r.calls).toEqual([
      'bw [--version]',
      'bw [status]',
      'bw [unlock] [--raw]',
      'bw BW_SESSION=tok= [status]',
      'bw BW_SESSION=tok= [sync]',
      'bw BW_SESSION=tok= [get] [item] [db]',
      'bw BW_SESSION=tok= [get] [item] [api key]',
    ]);
  });

  it('nothing in a secret name is read by the shell', () => {
    const marker = join(dir, 'pwned');
    const name = `x$(touch ${marker}); touch ${marker} \`touch ${marker}\` '"`;
    const r = kamal(['fetch', '--adapter', 'aws_secrets_manager', name]);
    expect(r.status).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(r.calls.at(-1)).toBe(`aws [secretsmanager] [batch-get-secret-value] [--secret-id-list] [${name}] [--output] [json]`);
  });

  it('aws: one batch call, values of a JSON secret keyed NAME/KEY and stringified', () => {
    const r = kamal(['fetch', '--adapter', 'aws_secrets_manager', '--from', 'app', 'prod']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"app/prod/DB_PASSWORD":"s3cr3t","app/prod/PORT":"5432"}\n');
    expect(r.calls).toEqual(['aws [--version]', 'aws [secretsmanager] [batch-get-secret-value] [--secret-id-list] [app/prod] [--output] [json]']);
  });

  it("a vendor CLI that is not installed: Kamal's message, exit 1", () => {
    const r = kamal(['fetch', '--adapter', 'lastpass', '--account', 'me@example.com', 'X']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: LastPass CLI is not installed\n');
  });

  it('fetch | extract, as a .kamal/secrets file chains them', () => {
    const fetched = kamal(['fetch', '--adapter', 'bitwarden', '--account', 'me', 'db']);
    const r = kamal(['extract', 'db', fetched.stdout.trim()]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('pw of db\n');
  });
});
