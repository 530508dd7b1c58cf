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
    const r = new ActionReporter({ sink: s, localUser: 'me', redact: (t) => t.replaceAll('pw123', '[REDACTED]') });
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
      '  INFO Running docker login registry -u u -p [REDACTED] as me@localhost',
      'building',
      '::endgroup::',
      '::group::boot web on h1',
      '  INFO Running docker run x on h1',
      '  INFO Running docker exec kamal-proxy on h1',
      'Renaming container [REDACTED]',
      '::endgroup::',
      '::group::boot web on h2',
      '  INFO Running docker run x on h2',
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
      '  INFO Running docker ps on h1',
      '  INFO Running docker ps on h2',
      '  INFO Running docker stop on h1',
      '::endgroup::',
      '::group::on h1',
      '  INFO Running docker tag on h1',
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
      '  INFO Running run 1 on h1',
      '  INFO Running deploy 1 on h1',
      '::endgroup::',
      '::group::boot web on h2',
      '  INFO Running run 2 on h2',
      '  INFO Running deploy 2 on h2',
      '::endgroup::',
      '::group::boot web on h3',
      '  INFO Running run 3 on h3',
      '  INFO Running deploy 3 on h3',
      '  INFO Running tag 3 on h3',
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
    expect(s.log).toEqual([
      '::group::boot web on h1',
      '  INFO Running a on h1',
      '::endgroup::',
      '::group::boot web on h2',
      '  INFO Running b on h2',
      '::endgroup::',
    ]);
  });

  it("commands inside their step's group as Kamal prints them: Running, then Finished with the run time; uploads as SSHKit logs them", () => {
    const s = sink();
    const timeline: TimelineEntry[] = [{ step: 'boot web', host: 'h1', role: 'web', startedAt: 0 }];
    const r = new ActionReporter({ sink: s, redact: (t) => t.replaceAll('pw123', '[REDACTED]') });
    r.attach(timeline);
    r.command('h1', 'docker run -e X=pw123 app', 'a1b2c3d4');
    r.commandOutput('h1', 'a1b2c3d4', 'stdout', 'hidden unless verbose\n');
    r.commandEnd('h1', 'a1b2c3d4', 0, 1.5);
    r.note('h1', 'Uploading .kamal/apps/app/env/roles/web.env 100.0%');
    r.command('h1', 'docker exec kamal-proxy kamal-proxy deploy', 'ffff0000');
    r.commandEnd('h1', 'ffff0000', 1, 30);
    timeline[0]!.finishedAt = 1;
    r.close();
    expect(s.log).toEqual([
      '::group::boot web on h1',
      '  INFO [a1b2c3d4] Running docker run -e X=[REDACTED] app on h1',
      '  INFO [a1b2c3d4] Finished in 1.500 seconds with exit status 0 (successful).',
      '  INFO Uploading .kamal/apps/app/env/roles/web.env 100.0%',
      '  INFO [ffff0000] Running docker exec kamal-proxy kamal-proxy deploy on h1',
      '  INFO [ffff0000] Finished in 30.000 seconds with exit status 1 (failed).',
      '::endgroup::',
    ]);
  });

  it('verbose (-v or the runner debug logging): the command line and its output, line by line, redacted', () => {
    const s = sink();
    const timeline: TimelineEntry[] = [{ step: 'lock', startedAt: 0 }];
    const r = new ActionReporter({ sink: s, verbose: true, redact: (t) => t.replaceAll('pw123', '[REDACTED]') });
    r.attach(timeline);
    r.command('h1', 'cat .kamal/lock', 'a1b2c3d4');
    r.commandOutput('h1', 'a1b2c3d4', 'stdout', 'one pw123\ntwo\n');
    r.commandOutput('h1', 'a1b2c3d4', 'stderr', 'warn\n');
    r.commandEnd('h1', 'a1b2c3d4', 0, 0.01);
    r.say('details', 'debug');
    timeline[0]!.finishedAt = 1;
    r.close();
    expect(s.log).toEqual([
      '::group::lock',
      '  INFO [a1b2c3d4] Running cat .kamal/lock on h1',
      ' DEBUG [a1b2c3d4] Command: cat .kamal/lock',
      ' DEBUG [a1b2c3d4] \tone [REDACTED]',
      ' DEBUG [a1b2c3d4] \ttwo',
      ' DEBUG [a1b2c3d4] \twarn',
      '  INFO [a1b2c3d4] Finished in 0.010 seconds with exit status 0 (successful).',
      'details',
      '::endgroup::',
    ]);
  });

  it('audit and lock commands (debug in Kamal) only in verbose output', () => {
    for (const verbose of [false, true]) {
      const s = sink();
      const r = new ActionReporter({ sink: s, verbose });
      r.command('h1', 'mkdir .kamal/lock-app', 'a1b2c3d4', 'debug');
      r.commandEnd('h1', 'a1b2c3d4', 0, 0.2);
      r.close();
      expect(s.log, String(verbose)).toEqual(
        verbose
          ? [
              '::group::on h1',
              ' DEBUG [a1b2c3d4] Running mkdir .kamal/lock-app on h1',
              ' DEBUG [a1b2c3d4] Command: mkdir .kamal/lock-app',
              ' DEBUG [a1b2c3d4] Finished in 0.200 seconds with exit status 0 (successful).',
              '::endgroup::',
            ]
          : [],
      );
    }
  });

  it("Kamal's info and error lines inside `on` go to their host's step group in SSHKit's format", () => {
    const s = sink();
    const timeline: TimelineEntry[] = [{ step: 'boot web', host: 'h1', role: 'web', startedAt: 0 }];
    const r = new ActionReporter({ sink: s, redact: (t) => t.replaceAll('pw123', '[REDACTED]') });
    r.attach(timeline);
    r.log('Renaming container v1 to v1_replaced_ab as already deployed on h1', 'info', 'h1');
    r.log('Failed to boot web on h1: pw123', 'error', 'h1');
    r.log('hidden', 'debug', 'h1');
    timeline[0]!.finishedAt = 1;
    r.close();
    expect(s.log).toEqual([
      '::group::boot web on h1',
      '  INFO Renaming container v1 to v1_replaced_ab as already deployed on h1',
      ' ERROR Failed to boot web on h1: [REDACTED]',
      '::endgroup::',
    ]);
  });

  it('a dry run lists its commands as what would run', () => {
    const s = sink();
    const r = new ActionReporter({ sink: s, dryRun: true, localUser: 'runner' });
    r.command('h1', 'docker run app', 'a1b2c3d4');
    r.command('local', 'docker build .', 'ffff0000');
    r.close();
    expect(s.log).toEqual([
      '::group::on h1',
      '  INFO [a1b2c3d4] Would run docker run app on h1',
      '::endgroup::',
      '::group::local',
      '  INFO [ffff0000] Would run docker build . as runner@localhost',
      '::endgroup::',
    ]);
  });

  it('tells about each command before printing it (local docker login detection)', () => {
    const seen: string[] = [];
    const r = new ActionReporter({ sink: sink(), onCommand: (h, c) => seen.push(`${h}: ${c}`) });
    r.command('local', 'docker login r');
    expect(seen).toEqual(['local: docker login r']);
  });
});
