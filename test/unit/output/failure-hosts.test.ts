/** A failure on several hosts names every one of them: in the CLI's message, the annotation and the job summary. */
import { describe, expect, it } from 'vitest';
import { buildReport, failureOf } from '../../../src/action/report.js';
import { failureAnnotation, summaryMarkdown } from '../../../src/action/summary.js';
import { formatError } from '../../../src/cli/errors.js';
import { MultiError } from '../../../src/engine/parallel.js';
import { CommandFailedError, ConnectionError } from '../../../src/exec/types.js';
import { fakeKamal } from '../action/fakes.js';

const refused = (h: string) => new ConnectionError(h, `connection refused by ${h}:22 (is sshd running and listening on port 22?)`);
const everyHost = () => new MultiError([refused('vm1'), refused('vm2'), refused('vm3')]);

describe('a failure on every host names every host', () => {
  it('CLI: one line per host', () => {
    expect(formatError(everyHost())).toBe(
      [
        'Failed: 3 failures:',
        '- vm1: connection refused by vm1:22 (is sshd running and listening on port 22?)',
        '- vm2: connection refused by vm2:22 (is sshd running and listening on port 22?)',
        '- vm3: connection refused by vm3:22 (is sshd running and listening on port 22?)',
      ].join('\n'),
    );
  });

  it('the failure report lists the hosts, nested failures (roles, then hosts) included', () => {
    expect(failureOf(everyHost(), 'm', [], [])).toMatchObject({ host: 'vm1', hosts: ['vm1', 'vm2', 'vm3'] });
    const byRole = new MultiError([
      new MultiError([refused('vm1'), refused('vm2')]),
      new CommandFailedError({ host: 'vm3', command: 'docker run', exitCode: 125, stdout: '', stderr: 'no' }),
    ]);
    expect(failureOf(byRole, 'm', [], []).hosts).toEqual(['vm1', 'vm2', 'vm3']);
    // one host: no list
    expect(failureOf(refused('vm1'), 'm', [], []).hosts).toBeUndefined();
  });

  it('annotation title and job summary name all three', () => {
    const error = everyHost();
    const r = buildReport({ argv: ['deploy'], kamal: fakeKamal(), error, errorText: formatError(error), cancelled: false, startedAt: 0, finishedAt: 1000 });
    expect(failureAnnotation(r)!.title).toBe('kamal-action deploy failed on vm1, vm2, vm3');
    const md = summaryMarkdown(r);
    expect(md).toContain('- **Hosts:** `vm1`, `vm2`, `vm3`\n');
    expect(md).not.toContain('- **Host:**');
  });
});
