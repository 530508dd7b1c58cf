import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ssh2 from 'ssh2';
import { fingerprint, hashHostName, hostFieldMatches, keyTypeOf, KnownHosts, knownHostName, parseKnownHosts } from '../../../src/ssh/known-hosts.js';
import { tempDir } from './test-server.js';

function pub(type: 'ed25519' | 'rsa' | 'ecdsa'): { line: string; blob: Buffer } {
  const k =
    type === 'rsa'
      ? ssh2.utils.generateKeyPairSync('rsa', { bits: 1024 })
      : type === 'ecdsa'
        ? ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 })
        : ssh2.utils.generateKeyPairSync('ed25519');
  const line = k.public.trim().split(/\s+/).slice(0, 2).join(' ');
  return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
}

const hasSshKeygen = (() => {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
  }
})();

const ed = pub('ed25519');
const ed2 = pub('ed25519');
const rsa = pub('rsa');
const ecdsa = pub('ecdsa');

function checker(lines: string[], mode: 'strict' | 'accept-new' | 'off' = 'strict'): { kh: KnownHosts; file: string } {
  const file = join(tempDir(), 'known_hosts');
  writeFileSync(file, lines.join('\n') + '\n');
  return { kh: new KnownHosts({ mode, files: [file] }), file };
}

describe('known_hosts parsing and matching', () => {
  it('parses markers, skips comments, blanks and malformed lines', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        `host1 ${ed.line} comment here`,
        `@revoked * ${rsa.line}`,
        `@cert-authority *.example ${ecdsa.line}`,
        'garbage',
        `h ssh-ed25519 !!notbase64`,
      ].join('\n'),
      'f',
    );
    expect(entries.map((e) => [e.line, e.marker, e.hosts])).toEqual([
      [3, undefined, 'host1'],
      [4, 'revoked', '*'],
      [5, 'cert-authority', '*.example'],
    ]);
    expect(entries[0]!.key.equals(ed.blob)).toBe(true);
  });

  it('names hosts with a non-standard port as [host]:port', () => {
    expect(knownHostName('Example.COM')).toBe('example.com');
    expect(knownHostName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('matches plain, comma-separated, wildcard and negated patterns', () => {
    expect(hostFieldMatches('a.example,10.0.0.1', '10.0.0.1')).toBe(true);
    expect(hostFieldMatches('a.example,10.0.0.1', 'b.example')).toBe(false);
    expect(hostFieldMatches('*.example', 'b.example')).toBe(true);
    expect(hostFieldMatches('*.example,!bad.example', 'bad.example')).toBe(false);
    expect(hostFieldMatches('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(hostFieldMatches('[10.0.0.1]:2222', '[10.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches('10.0.0.1', '[10.0.0.1]:2222')).toBe(false);
    expect(hostFieldMatches('HOST.Example', 'host.example')).toBe(true);
  });

  it('matches hashed entries (HMAC-SHA1 of the name)', () => {
    const salt = Buffer.alloc(20, 7);
    const field = hashHostName('127.0.0.2', salt);
    expect(field.startsWith(`|1|${salt.toString('base64')}|`)).toBe(true);
    expect(hostFieldMatches(field, '127.0.0.2')).toBe(true);
    expect(hostFieldMatches(field, '127.0.0.3')).toBe(false);
    expect(hostFieldMatches(hashHostName('[127.0.0.2]:2222'), '[127.0.0.2]:2222')).toBe(true);
  });

  it.skipIf(!hasSshKeygen)('matches hashed entries written by ssh-keygen -H', () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `127.0.0.2 ${ed.line}\n[127.0.0.3]:2222 ${rsa.line}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('127.0.0');
    const kh = new KnownHosts({ files: [file] });
    expect(kh.check('127.0.0.2', 22, ed.blob)).toMatchObject({ ok: true, status: 'known' });
    expect(kh.check('127.0.0.3', 2222, rsa.blob)).toMatchObject({ ok: true, status: 'known' });
    expect(kh.check('127.0.0.3', 22, rsa.blob).ok).toBe(false);
  });

  it.skipIf(!hasSshKeygen)('writes hashed names that ssh-keygen -F finds', () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `${hashHostName('127.0.0.2')} ${ed.line}\n`);
    const out = execFileSync('ssh-keygen', ['-F', '127.0.0.2', '-f', file], { encoding: 'utf8' });
    expect(out).toContain('found: line 1');
  });

  it('reads key types from the key blob', () => {
    expect(keyTypeOf(ed.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa.blob)).toBe('ssh-rsa');
    expect(keyTypeOf(ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
    expect(fingerprint(ed.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('KnownHosts.check', () => {
  it('accepts each key type for a plain entry on port 22', () => {
    const { kh } = checker([`127.0.0.2 ${ed.line}`, `127.0.0.2 ${rsa.line}`, `127.0.0.2 ${ecdsa.line}`]);
    for (const k of [ed, rsa, ecdsa]) expect(kh.check('127.0.0.2', 22, k.blob)).toMatchObject({ ok: true, status: 'known' });
    expect(kh.knownKeyTypes('127.0.0.2', 22)).toEqual(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
  });

  it('accepts comma-separated host lists and [host]:port entries', () => {
    const { kh } = checker([`web1,127.0.0.2 ${ed.line}`, `[127.0.0.3]:2222 ${ed.line}`]);
    expect(kh.check('127.0.0.2', 22, ed.blob).ok).toBe(true);
    expect(kh.check('web1', 22, ed.blob).ok).toBe(true);
    expect(kh.check('127.0.0.3', 2222, ed.blob).ok).toBe(true);
    // an entry for port 22 does not vouch for another port, and vice versa
    expect(kh.check('127.0.0.3', 22, ed.blob)).toMatchObject({ ok: false, status: 'unknown' });
    expect(kh.check('127.0.0.2', 2222, ed.blob)).toMatchObject({ ok: false, status: 'unknown' });
  });

  it('accepts hashed entries', () => {
    const { kh } = checker([`${hashHostName('127.0.0.2')} ${ed.line}`, `${hashHostName('[127.0.0.4]:2200')} ${rsa.line}`]);
    expect(kh.check('127.0.0.2', 22, ed.blob).ok).toBe(true);
    expect(kh.check('127.0.0.4', 2200, rsa.blob).ok).toBe(true);
  });

  it('refuses a changed key with a message naming host, file and line', () => {
    const { kh, file } = checker(['# header', `127.0.0.2 ${ed.line}`]);
    const v = kh.check('127.0.0.2', 22, ed2.blob);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.status).toBe('changed');
    expect(v.message).toContain('HOST KEY CHANGED for 127.0.0.2');
    expect(v.message).toContain(`${file} line 2`);
    expect(v.message).toContain(fingerprint(ed2.blob));
    expect(v.message).toContain('ssh-keygen -R 127.0.0.2');
  });

  it('refuses a key of a type the file does not record for a known host', () => {
    const { kh } = checker([`127.0.0.2 ${ed.line}`]);
    const v = kh.check('127.0.0.2', 22, rsa.blob);
    expect(v).toMatchObject({ ok: false, status: 'changed' });
  });

  it('refuses a revoked key even when it is also listed as known', () => {
    const { kh } = checker([`127.0.0.2 ${ed.line}`, `@revoked * ${ed.line}`]);
    const v = kh.check('127.0.0.2', 22, ed.blob);
    expect(v).toMatchObject({ ok: false, status: 'revoked' });
    if (!v.ok) expect(v.message).toContain('REVOKED');
  });

  it('refuses an unknown host in strict mode with an ssh-keyscan hint', () => {
    const { kh } = checker([`other ${ed.line}`]);
    const v = kh.check('127.0.0.2', 22, ed.blob);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.status).toBe('unknown');
      expect(v.message).toContain('ssh-keyscan -t ed25519 127.0.0.2 >>');
      expect(v.message).toContain('accept-new');
    }
  });

  it('accept-new accepts an unknown host and add() appends it; a changed key is still refused', () => {
    const { kh, file } = checker([`other ${ed.line}`], 'accept-new');
    expect(kh.check('127.0.0.2', 22, ed2.blob)).toMatchObject({ ok: true, status: 'added' });
    kh.add('127.0.0.2', 22, ed2.blob);
    kh.add('127.0.0.5', 2222, ed2.blob);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`127.0.0.2 ${ed2.line}\n`);
    expect(text).toContain(`[127.0.0.5]:2222 ${ed2.line}\n`);
    expect(kh.check('127.0.0.2', 22, ed2.blob)).toMatchObject({ ok: true, status: 'known' });
    expect(kh.check('127.0.0.2', 22, ed.blob)).toMatchObject({ ok: false, status: 'changed' });
  });

  it('add() starts a new line when the file lacks a final newline, and can hash names', () => {
    const dir = tempDir();
    const file = join(dir, 'kh');
    writeFileSync(file, `other ${ed.line}`);
    const kh = new KnownHosts({ mode: 'accept-new', files: [file], hashNewEntries: true });
    kh.add('127.0.0.9', 22, ed2.blob);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe(`other ${ed.line}`);
    expect(lines[1]!.startsWith('|1|')).toBe(true);
    expect(kh.check('127.0.0.9', 22, ed2.blob).ok).toBe(true);
  });

  it('off accepts anything', () => {
    const { kh } = checker([`127.0.0.2 ${ed.line}`], 'off');
    expect(kh.check('127.0.0.2', 22, ed2.blob)).toMatchObject({ ok: true, status: 'unchecked' });
  });

  it('reads several files, a missing one is fine', () => {
    const a = checker([`a ${ed.line}`]).file;
    const b = checker([`b ${rsa.line}`]).file;
    const kh = new KnownHosts({ files: [join(tempDir(), 'missing'), a, b] });
    expect(kh.check('a', 22, ed.blob).ok).toBe(true);
    expect(kh.check('b', 22, rsa.blob).ok).toBe(true);
  });
});
