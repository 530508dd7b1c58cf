/** Private keys for public key authentication: key files, key data and the default identities. */
import { homedir } from 'node:os';
import ssh2, { type ParsedKey } from 'ssh2';

// ssh2 is CommonJS; Node's ESM loader only sees some of its named exports.
const { utils } = ssh2;
import { Secret } from '../secret.js';
import { UnsafeFileError, readRegularFile } from '../fs-safe.js';
import { expandPath } from './ssh-config.js';

/** Key files larger than this are refused (an OpenSSH RSA 16384-bit key is about 12 KiB). */
const MAX_KEY_FILE_BYTES = 256 * 1024;

export interface Identity {
  /** How the key is named in messages: a path or `key_data[N]`, never key material. */
  label: string;
  key: ParsedKey;
}

export interface LoadedIdentities {
  identities: Identity[];
  /** Keys that were given but could not be used, in plain words (for auth failure messages). */
  problems: string[];
}

/** OpenSSH's default identity files, tried when no keys are configured. */
export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519', '~/.ssh/id_dsa'];

export function expandHome(path: string): string {
  return expandPath(path, { home: homedir(), cwd: process.cwd() });
}

function parse(data: Buffer | string, passphrase: string | undefined): ParsedKey | Error {
  let parsed: ParsedKey | ParsedKey[] | Error;
  try {
    parsed = utils.parseKey(data, passphrase);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
  if (parsed instanceof Error) return parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return new Error('no key found');
  if (!key.isPrivateKey()) return new Error('not a private key');
  return key;
}

function explain(err: Error): string {
  const m = err.message;
  if (/encrypted|passphrase/i.test(m)) return 'it is encrypted and no passphrase was given (use ssh-agent for encrypted keys)';
  if (/unsupported/i.test(m)) return `unsupported key format (${m})`;
  return m;
}

export async function loadIdentities(opts: {
  keys?: readonly string[];
  keyData?: readonly (string | Secret)[];
  passphrase?: string | Secret;
}): Promise<LoadedIdentities> {
  const identities: Identity[] = [];
  const problems: string[] = [];
  const passphrase = opts.passphrase instanceof Secret ? opts.passphrase.reveal() : opts.passphrase;
  const explicit = (opts.keys?.length ?? 0) > 0 || (opts.keyData?.length ?? 0) > 0;

  const files = explicit ? (opts.keys ?? []) : DEFAULT_IDENTITY_FILES;
  for (const file of files) {
    const path = expandHome(file);
    let data: Buffer;
    try {
      data = readRegularFile(path, MAX_KEY_FILE_BYTES, file);
    } catch (e) {
      if (explicit) {
        const code = e instanceof UnsafeFileError ? e.code : (e as NodeJS.ErrnoException).code;
        problems.push(
          `key file ${file} ${code === 'ENOENT' ? 'does not exist' : e instanceof UnsafeFileError ? e.message.slice(file.length + 2) : `cannot be read (${code ?? String(e)})`}`,
        );
      }
      continue;
    }
    const key = parse(data, passphrase);
    if (key instanceof Error) problems.push(`key file ${file} cannot be used: ${explain(key)}`);
    else identities.push({ label: file, key });
  }

  (opts.keyData ?? []).forEach((k, i) => {
    const text = k instanceof Secret ? k.reveal() : k;
    const label = k instanceof Secret && k.name ? `key_data ${k.name}` : `key_data[${i}]`;
    // Secrets passed through environment variables often carry literal "\n" or CRLF.
    const normalised = text.includes('\\n') && !text.includes('\n') ? text.replace(/\\n/g, '\n') : text.replace(/\r\n/g, '\n');
    const key = parse(normalised.endsWith('\n') ? normalised : `${normalised}\n`, passphrase);
    if (key instanceof Error) problems.push(`${label} cannot be used: ${explain(key)}`);
    else identities.push({ label, key });
  });

  return { identities, problems };
}
