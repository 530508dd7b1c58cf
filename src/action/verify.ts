/** The action's verify-url, verify-for and rollback-on-failure inputs, their CLI flags, and their part of the job summary. */
import { VerifySpecError, parseDuration, parseVerifySpecs, type Verification } from '../engine/verify.js';

export interface VerifyInputs {
  /** One `URL [STATUS] [TEXT]` a line, as given (validated). */
  'verify-url': string[];
  'verify-for': string | undefined;
  'rollback-on-failure': boolean;
}

/** Commands whose rollout the checks follow. */
export const VERIFIED_COMMANDS = new Set(['deploy', 'redeploy']);

type Fail = (input: string, message: string) => Error;

/** Reads and validates the three inputs; `fail` builds the error naming the input. */
export function readVerifyInputs(read: (name: string) => string, command: string, fail: Fail): VerifyInputs {
  const lines = read('verify-url')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  try {
    parseVerifySpecs(lines);
  } catch (e) {
    if (e instanceof VerifySpecError) throw fail('verify-url', e.message.replace(/^line \d+: /, ''));
    throw e;
  }
  const forText = read('verify-for').trim() || undefined;
  if (forText !== undefined) {
    try {
      parseDuration(forText);
    } catch (e) {
      if (e instanceof VerifySpecError) throw fail('verify-for', e.message);
      throw e;
    }
  }
  const rawRollback = read('rollback-on-failure').trim();
  let rollbackOnFailure = false;
  if (['true', 'True', 'TRUE'].includes(rawRollback)) rollbackOnFailure = true;
  else if (!['', 'false', 'False', 'FALSE'].includes(rawRollback)) throw fail('rollback-on-failure', 'must be true or false');

  if (lines.length > 0 && !VERIFIED_COMMANDS.has(command)) {
    throw fail('verify-url', `only applies to deploy and redeploy, not '${command}'`);
  }
  if (lines.length === 0 && rollbackOnFailure) throw fail('rollback-on-failure', 'needs verify-url: the rollback follows a failed check');
  return { 'verify-url': lines, 'verify-for': forText, 'rollback-on-failure': rollbackOnFailure };
}

/** The `deploy` flags for the inputs (none without verify-url). */
export function verifyArgv(inputs: VerifyInputs, words: readonly string[] = []): string[] {
  if (inputs['verify-url'].length === 0) return [];
  const argv = inputs['verify-url'].flatMap((line) => ['--verify-url', line]);
  if (inputs['verify-for'] !== undefined && !words.some((w) => w === '--verify-for' || w.startsWith('--verify-for='))) {
    argv.push('--verify-for', inputs['verify-for']);
  }
  if (inputs['rollback-on-failure'] && !words.includes('--rollback-on-failure')) argv.push('--rollback-on-failure');
  return argv;
}

function code(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

/** The summary's "Verification" section: what was checked, what failed, what was done about it. */
export function verificationMarkdown(v: Verification | undefined): string[] {
  if (!v) return [];
  const out: string[] = ['### Verification', ''];
  const urls = v.urls.map((u) => `${code(u.url)} → ${u.status}${u.contains !== undefined ? ` containing ${code(u.contains)}` : ''}`);
  const hosts = v.hosts.map(code).join(', ');
  if (v.ok) {
    out.push(`✅ ${code(v.version)} answered as expected for ${v.forSeconds} s: ${v.requests} requests in ${v.rounds} rounds through the proxy on ${hosts}.`);
  } else if (v.failure) {
    const f = v.failure;
    out.push(`❌ ${code(v.version)} failed its checks after ${(f.atMs / 1000).toFixed(1)} s (round ${v.rounds}):`);
    out.push('');
    out.push(`- **URL:** ${code(f.url)} through ${code(f.host)}`);
    out.push(`- **Expected:** status ${f.expectedStatus}${f.contains !== undefined ? `, body containing ${code(f.contains)}` : ''}`);
    out.push(`- **Got:** ${f.status !== undefined ? `status ${f.status}` : 'no answer'} — ${f.reason}`);
    if (f.excerpt !== undefined) out.push(`- **Body:** ${f.excerpt === '' ? '(empty)' : code(f.excerpt)}`);
  } else {
    out.push(`${code(v.version)} was not checked.`);
  }
  out.push('');
  if (!v.ok && v.failure) {
    if (v.rollback === 'done') {
      out.push(
        `↩️ **Rolled back** from ${code(v.version)} to ${code(v.rolledBackTo ?? v.previousVersion ?? '')} on every host: ${code(v.rolledBackTo ?? v.previousVersion ?? '')} serves again.`,
      );
    } else if (v.rollback === 'failed') {
      out.push(
        `⚠️ Rolling back from ${code(v.version)} to ${code(v.previousVersion ?? '')} **failed**: see the failure below; ${code(v.version)} may still serve.`,
      );
    } else if (v.rollback === 'skipped') {
      out.push(`⚠️ No rollback: no earlier version than ${code(v.version)} to go back to. ${code(v.version)} stays deployed.`);
    } else {
      out.push(
        `⚠️ ${code(v.version)} stays deployed (rollback-on-failure is off)${v.previousVersion ? `; roll back with \`kamal-action rollback ${v.previousVersion}\` or the rollback command of this action` : ''}.`,
      );
    }
    out.push('');
  }
  out.push(`<details><summary>Checked URLs</summary>`, '', ...urls.map((u) => `- ${u}`), '', '</details>', '');
  return out;
}
