/**
 * The match rate over all of Kamal's command tests: a Kamal test passes when
 * every assertion ported from it renders the same command (exactly, or word
 * for word where our quoting legitimately differs).
 */
import { describe, expect, it } from 'vitest';
import { accessoryCases } from './accessory.cases.js';
import { appCases } from './app.cases.js';
import { auditorCases } from './auditor.cases.js';
import { builderCases } from './builder.cases.js';
import { dockerCases } from './docker.cases.js';
import { hookCases } from './hook.cases.js';
import { lockCases } from './lock.cases.js';
import { tally } from './parity.js';
import { proxyCases } from './proxy.cases.js';
import { pruneCases } from './prune.cases.js';
import { registryCases } from './registry.cases.js';
import { serverCases } from './server.cases.js';

/** Number of `test "..."` blocks in each of Kamal's test/commands/*_test.rb (v2.12.0). */
const KAMAL_TESTS: Record<string, number> = {
  accessory: 20,
  app: 86,
  auditor: 4,
  builder: 34,
  docker: 8,
  hook: 4,
  lock: 4,
  proxy: 33,
  prune: 3,
  registry: 9,
  server: 1,
};

const groups = {
  accessory: accessoryCases,
  app: appCases,
  auditor: auditorCases,
  builder: builderCases,
  docker: dockerCases,
  hook: hookCases,
  lock: lockCases,
  proxy: proxyCases,
  prune: pruneCases,
  registry: registryCases,
  server: serverCases,
};

describe('Kamal command parity', () => {
  it('ports every Kamal command test', () => {
    for (const [domain, cases] of Object.entries(groups)) {
      expect(new Set(cases.map((c) => c.test)).size, domain).toBe(KAMAL_TESTS[domain]);
    }
  });

  it('matches at least 95% of Kamal command tests', () => {
    const total = Object.values(KAMAL_TESTS).reduce((a, b) => a + b, 0);
    const t = tally(groups);
    const rate = t.passed / total;
    console.log(
      `Kamal command parity: ${t.passed}/${total} tests pass (${(rate * 100).toFixed(1)}%); ` +
        `${t.exact} render exactly like Kamal, ${t.passed - t.exact} word for word` +
        (t.failed.length ? `; failing: ${t.failed.join(', ')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.95);
  });
});
