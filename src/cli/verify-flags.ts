/** The `deploy` flags that check the rollout: --verify-url (repeatable), --verify-for, --rollback-on-failure. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_VERIFY_FOR_MS, VerifySpecError, parseDuration, parseVerifySpecs, type VerifyOptions, type VerifySpec } from '../engine/verify.js';

function specs(value: string, previous: VerifySpec[] = []): VerifySpec[] {
  try {
    return [...previous, ...parseVerifySpecs([value])];
  } catch (e) {
    if (e instanceof VerifySpecError) throw new UsageError(`--verify-url ${e.message}`);
    throw e;
  }
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    if (e instanceof VerifySpecError) throw new UsageError(`--verify-for ${e.message}`);
    throw e;
  }
}

export function addVerifyFlags(c: Command): Command {
  return c
    .option(
      '--verify-url <spec>',
      'After the rollout, check "URL [STATUS] [TEXT]" through the proxy on every host (repeatable; STATUS defaults to 200, TEXT must be in the body)',
      specs,
    )
    .option('--verify-for <duration>', 'How long to keep checking the verify URLs (30s, 2m, 1m30s; default 30s)', duration)
    .option('--rollback-on-failure', 'When a verify URL answers wrong, roll back to the version that ran before on every host');
}

/** The verification the parsed flags ask for (no URLs: none). */
export function verifyOptionsFrom(o: Record<string, unknown>): VerifyOptions {
  const urls = (o.verifyUrl as VerifySpec[] | undefined) ?? [];
  const forMs = o.verifyFor as number | undefined;
  if (urls.length === 0 && (forMs !== undefined || o.rollbackOnFailure)) {
    throw new UsageError(`${forMs !== undefined ? '--verify-for' : '--rollback-on-failure'} needs at least one --verify-url`);
  }
  return { specs: urls, forMs: forMs ?? DEFAULT_VERIFY_FOR_MS, rollbackOnFailure: !!o.rollbackOnFailure };
}
