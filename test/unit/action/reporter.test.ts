import { describe, expect, it } from 'vitest';
import { ActionReporter, type LogSink } from '../../../src/action/reporter.js';
import type { TimelineEntry } from '../../../src/engine/reporter.js';

function sink(): LogSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    info: (l) => log.push(l),
    warning: (l) => log.push(`warning: ${l}`),
    startGroup: (t) => log.push(`::group::${t}`),
    endGroup: () => log.push('::endgroup::'),
  };
}

describe('ActionReporter', () => {
  it('groups lines by the running step and host and closes groups when steps end', () => {
    const s = sink();
    const timeline: TimelineEntry[] = [];
    const r = new ActionReporter({ sink: s, redact: (t) => t.replaceAll('pw123', '[REDACTED]') });
    r.attach(timeline);
    r.say('Build and push app image...');
    timeline.push({ step: 'build', startedAt: 0 });
    r.command('local', 'docker login registry -u u -p [REDACTED]');
    r.say('building');
    timeline[0]!.finishedAt = 1;
    timeline.push({ step: 'boot web', host: 'h1', role: 'web', startedAt: 2 });
    timeline.push({ step: 'boot web', host: 'h2', role: 'web', startedAt: 2 });
    r.command('h1', 'docker run x');
    r.command('h1', 'docker exec kamal-proxy');
    r.say('Renaming container pw123');
    r.command('h2', 'docker run x');
    r.hostOutput('h2', 'line1\nline2');
    timeline[1]!.finishedAt = 3;
    timeline[2]!.finishedAt = 3;
    r.say('Prune old containers and images...', 'info');
    r.say('careful', 'warn');
    r.say('bad thing', 'error');
    r.say('debug stuff', 'debug');
    r.write('raw\n');
    r.close();
    expect(s.log).toEqual([
      'Build and push app image...',
      '::group::build',
      '  local$ docker login registry -u u -p [REDACTED]',
      'building',
      '::endgroup::',
      '::group::boot web on h1',
      '  h1$ docker run x',
      '  h1$ docker exec kamal-proxy',
      'Renaming container [REDACTED]',
      '::endgroup::',
      '::group::boot web on h2',
      '  h2$ docker run x',
      'App Host: h2',
      'line1',
      'line2',
      '::endgroup::',
      'Prune old containers and images...',
      'warning: careful',
      'Error: bad thing',
      'raw',
    ]);
  });

  it('a step not tied to a host is one group for all hosts; outside steps, lines group by host', () => {
    const s = sink();
    const timeline: TimelineEntry[] = [{ step: 'stale containers', startedAt: 0 }];
    const r = new ActionReporter({ sink: s });
    r.attach(timeline);
    r.command('h1', 'docker ps');
    r.command('h2', 'docker ps');
    r.command('h1', 'docker stop');
    timeline[0]!.finishedAt = 1;
    r.command('h1', 'docker tag');
    r.close();
    expect(s.log).toEqual([
      '::group::stale containers',
      '  h1$ docker ps',
      '  h2$ docker ps',
      '  h1$ docker stop',
      '::endgroup::',
      '::group::on h1',
      '  h1$ docker tag',
      '::endgroup::',
    ]);
  });

  it('lines of hosts booting at the same time wait and come out as one group per host', () => {
    const s = sink();
    const timeline: TimelineEntry[] = [
      { step: 'boot web', host: 'h1', role: 'web', startedAt: 0 },
      { step: 'boot web', host: 'h2', role: 'web', startedAt: 0 },
      { step: 'boot web', host: 'h3', role: 'web', startedAt: 0 },
    ];
    const r = new ActionReporter({ sink: s });
    r.attach(timeline);
    r.command('h1', 'run 1');
    r.command('h2', 'run 2');
    r.command('h3', 'run 3');
    r.command('h2', 'deploy 2');
    timeline[1]!.finishedAt = 1; // h2 ends first: it waits for h1's group to end
    r.command('h1', 'deploy 1');
    timeline[0]!.finishedAt = 2;
    r.command('h3', 'deploy 3'); // h1 over: h2 printed whole, h3 opened with what it had
    r.command('h3', 'tag 3');
    timeline[2]!.finishedAt = 3;
    r.say('Prune');
    r.close();
    expect(s.log).toEqual([
      '::group::boot web on h1',
      '  h1$ run 1',
      '  h1$ deploy 1',
      '::endgroup::',
      '::group::boot web on h2',
      '  h2$ run 2',
      '  h2$ deploy 2',
      '::endgroup::',
      '::group::boot web on h3',
      '  h3$ run 3',
      '  h3$ deploy 3',
      '  h3$ tag 3',
      '::endgroup::',
      'Prune',
    ]);
  });

  it('close() prints groups still waiting (a cancelled run)', () => {
    const s = sink();
    const timeline: TimelineEntry[] = [
      { step: 'boot web', host: 'h1', startedAt: 0 },
      { step: 'boot web', host: 'h2', startedAt: 0 },
    ];
    const r = new ActionReporter({ sink: s });
    r.attach(timeline);
    r.command('h1', 'a');
    r.command('h2', 'b');
    r.close();
    expect(s.log).toEqual(['::group::boot web on h1', '  h1$ a', '::endgroup::', '::group::boot web on h2', '  h2$ b', '::endgroup::']);
  });

  it('tells about each command before printing it (local docker login detection)', () => {
    const seen: string[] = [];
    const r = new ActionReporter({ sink: sink(), onCommand: (h, c) => seen.push(`${h}: ${c}`) });
    r.command('local', 'docker login r');
    expect(seen).toEqual(['local: docker login r']);
  });
});
