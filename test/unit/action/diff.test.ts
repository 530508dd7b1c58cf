/** `command: diff` in the action: the Markdown summary, the outputs, and the one pull request comment. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffMarkdown, finishDiff } from '../../../src/action/diff.js';
import { commentMarker, githubComments, pullRequestNumber, upsertComment, type CommentsClient, type IssueComment } from '../../../src/action/pr-comment.js';
import type { DiffReport } from '../../../src/engine/diff.js';
import type { Kamal } from '../../../src/engine/kamal.js';
import { SecretRegistry } from '../../../src/secret.js';
import { RecordingCore } from './fakes.js';

const SECRET = 'tok-3n "secret"';

function report(extra: Partial<DiffReport> = {}): DiffReport {
  return {
    service: 'app',
    destination: 'production',
    version: 'v2',
    image: 'registry:5000/acme/app:v2',
    changed: true,
    roles: [
      {
        role: 'web',
        host: '10.0.0.1',
        status: 'changed',
        runningVersion: 'v1',
        version: 'v2',
        image: { running: 'registry:5000/acme/app:v1', desired: 'registry:5000/acme/app:v2' },
        env: [
          { key: 'NEW_KEY', change: 'added', to: 'x|y' },
          { key: 'DB_PASSWORD', change: 'changed', secret: true },
        ],
        labels: [],
        options: [],
        volumes: [],
        proxy: [{ key: 'health-check-path', change: 'changed', from: '/up', to: '/health' }],
      },
      {
        role: 'web',
        host: '10.0.0.3',
        status: 'new',
        version: 'v2',
        image: { desired: 'registry:5000/acme/app:v2' },
        env: [],
        labels: [],
        options: [],
        volumes: [],
        proxy: [],
      },
    ],
    hostsAdded: ['10.0.0.3'],
    leftOut: [{ host: '10.0.0.1', role: 'jobs', version: 'v1' }],
    accessories: [],
    ...extra,
  };
}

describe('diffMarkdown', () => {
  it('a table per role and host, the changes in a diff block, secrets by name', () => {
    expect(diffMarkdown(report(), { runUrl: 'https://github.com/o/r/actions/runs/1' })).toBe(
      [
        '### kamal-action diff: app (destination production): deploy of v2 (registry:5000/acme/app:v2)',
        '',
        'A deploy would change what is listed below.',
        '',
        '| Role | Host | Running | Would deploy | Changes |',
        '| --- | --- | --- | --- | --- |',
        '| web | 10.0.0.1 | v1 | v2 | image, env 2, proxy 1 |',
        '| web | 10.0.0.3 | — | v2 | new: first container |',
        '',
        '**Hosts added** (no container of app yet): 10.0.0.3',
        '',
        '**Left out** (running, but the role is no longer configured on the host; a deploy leaves them running):',
        '',
        '- jobs on 10.0.0.1 (v1)',
        '',
        '```diff',
        'web on 10.0.0.1: v1 → v2',
        '  image:',
        '!   registry:5000/acme/app:v1 → registry:5000/acme/app:v2',
        '  env:',
        '+   NEW_KEY=x|y',
        '!   DB_PASSWORD (secret, changed)',
        '  proxy:',
        '!   health-check-path: /up → /health',
        '```',
        '',
        'Secret values are never shown: a changed secret is listed by name.',
        '',
        '[Workflow run](https://github.com/o/r/actions/runs/1)',
        '',
      ].join('\n'),
    );
  });

  it('nothing to change, and a value with backticks cannot close the block', () => {
    const same = report({ changed: false, roles: [], hostsAdded: [], leftOut: [] });
    expect(diffMarkdown(same)).toContain('**Nothing would change.**');
    const r = report();
    r.roles[0]!.env = [{ key: 'K', change: 'added', to: 'a ``` b' }];
    expect(diffMarkdown(r)).toContain('````diff\n');
  });
});

describe('upsertComment', () => {
  function recorder(existing: IssueComment[]): CommentsClient & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      list: async (issue) => (calls.push(`list ${issue}`), existing),
      create: async (issue, body) => (calls.push(`create ${issue} ${body}`), 99),
      update: async (id, body) => void calls.push(`update ${id} ${body}`),
    };
  }
  const marker = commentMarker('app', 'production');

  it.each([
    ['no comment yet: one is created', [{ id: 1, body: 'LGTM' }], ['list 7', `create 7 ${marker}\nbody`], { id: 99, action: 'created' }],
    [
      'the earlier diff comment is updated in place',
      [
        { id: 1, body: 'LGTM' },
        { id: 5, body: `${marker}\nold` },
      ],
      ['list 7', `update 5 ${marker}\nbody`],
      { id: 5, action: 'updated' },
    ],
    [
      'a comment of another destination is left alone',
      [{ id: 5, body: `${commentMarker('app', 'staging')}\nold` }],
      ['list 7', `create 7 ${marker}\nbody`],
      { id: 99, action: 'created' },
    ],
  ] as [string, IssueComment[], string[], unknown][])('%s', async (_n, existing, calls, result) => {
    const c = recorder(existing);
    expect(await upsertComment(c, 7, marker, 'body')).toEqual(result);
    expect(c.calls).toEqual(calls);
  });

  it('marker per service and destination', () => {
    expect([commentMarker('app', undefined), commentMarker('app', 'production')]).toEqual([
      '<!-- kamal-action diff app -->',
      '<!-- kamal-action diff app/production -->',
    ]);
  });
});

describe('pullRequestNumber', () => {
  const dir = mkdtempSync(join(tmpdir(), 'diff-event-'));
  const event = (name: string, payload: unknown) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(payload));
    return { GITHUB_EVENT_PATH: file };
  };
  it.each([
    ['pull_request', { pull_request: { number: 12 } }, 12],
    ['comment on a pull request', { issue: { number: 13, pull_request: { url: 'x' } } }, 13],
    ['comment on an issue', { issue: { number: 14 } }, undefined],
    ['push', { ref: 'refs/heads/main' }, undefined],
  ])('%s', (name, payload, expected) => {
    expect(pullRequestNumber(event(name, payload))).toBe(expected);
  });
  it('no event file', () => expect(pullRequestNumber({})).toBeUndefined());
});

describe('githubComments against a stand-in of the REST API', () => {
  let server: Server;
  let url: string;
  const requests: { method: string; path: string; auth?: string; body?: unknown }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        requests.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body: raw ? JSON.parse(raw) : undefined });
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json' });
        if (req.method === 'GET')
          res.end(
            JSON.stringify([
              { id: 41, body: 'hello' },
              { id: 42, body: `${commentMarker('app', undefined)}\nold` },
            ]),
          );
        else res.end(JSON.stringify({ id: 77 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists the comments and updates ours', async () => {
    const client = githubComments('ghs_token123', { owner: 'o', repo: 'r', apiUrl: url });
    expect(await upsertComment(client, 7, commentMarker('app', undefined), 'new')).toEqual({ id: 42, action: 'updated' });
    expect(await client.create(8, 'x')).toBe(77);
    expect(requests.map((r) => [r.method, r.path, r.auth, r.body])).toEqual([
      ['GET', '/repos/o/r/issues/7/comments?per_page=100', 'token ghs_token123', undefined],
      ['PATCH', '/repos/o/r/issues/comments/42', 'token ghs_token123', { body: '<!-- kamal-action diff app -->\nnew' }],
      ['POST', '/repos/o/r/issues/8/comments', 'token ghs_token123', { body: 'x' }],
    ]);
  });
});

describe('finishDiff', () => {
  const registry = new SecretRegistry();
  registry.add(SECRET);
  const redact = (s: string) => registry.redact(s);
  const kamalWith = (r: DiffReport | undefined) => ({ diffReport: r }) as unknown as Kamal;
  const saved: Record<string, string> = {};
  const state = { save: (k: string, v: string) => void (saved[k] = v) };
  const ENV = { GITHUB_REPOSITORY: 'o/r', GITHUB_SHA: 'abc', GITHUB_RUN_ID: '9', GITHUB_SERVER_URL: 'https://github.com' };

  it('outputs changed and the report with every secret form redacted; summary; comment', async () => {
    const r = report();
    r.roles[0]!.env[0] = { key: 'NEW_KEY', change: 'added', to: `a ${JSON.stringify(SECRET).slice(1, -1)} b ${Buffer.from(SECRET).toString('base64')}` };
    const core = new RecordingCore();
    const bodies: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'diff-event-'));
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ pull_request: { number: 3 } }));
    const out = await finishDiff({
      core,
      env: { ...ENV, GITHUB_EVENT_PATH: join(dir, 'event.json') },
      inputs: { 'comment-on-pr': true, 'github-token': 'ghs_x' },
      kamal: kamalWith(r),
      error: undefined,
      errorText: undefined,
      redact,
      state,
      exitCode: 0,
      comments: () => ({ list: async () => [], create: async (_i, b) => (bodies.push(b), 1), update: async () => undefined }),
    });
    expect(out).toEqual({ exitCode: 0 });
    expect(core.outputs.changed).toBe('true');
    expect(core.outputs.version).toBe('v2');
    const json = JSON.parse(core.outputs.report!) as DiffReport;
    expect(json.roles[0]!.env[0]!.to).toBe('a [REDACTED] b [REDACTED]');
    expect(core.summary).toContain('| web | 10.0.0.1 | v1 | v2 |');
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatch(/^<!-- kamal-action diff app\/production -->\n### kamal-action diff/);
    for (const form of [SECRET, JSON.stringify(SECRET).slice(1, -1), Buffer.from(SECRET).toString('base64')]) {
      expect(core.visible()).not.toContain(form);
      expect(bodies[0]).not.toContain(form);
    }
    expect(core.of('info').map((e) => e.value)).toEqual(['Diff comment created on pull request #3']);
    expect(saved['main-done']).toBe('true');
  });

  it('nothing changed: changed=false; no pull request: no comment', async () => {
    const core = new RecordingCore();
    await finishDiff({
      core,
      env: ENV,
      inputs: { 'comment-on-pr': true, 'github-token': 'ghs_x' },
      kamal: kamalWith(report({ changed: false, roles: [], hostsAdded: [], leftOut: [] })),
      error: undefined,
      errorText: undefined,
      redact,
      state,
      exitCode: 0,
      comments: () => {
        throw new Error('no client expected');
      },
    });
    expect(core.outputs.changed).toBe('false');
    expect(core.of('info').map((e) => e.value)).toEqual(['comment-on-pr: this run was not started by a pull request, no comment posted']);
  });

  it('the diff could not be made: the step fails, the outputs are empty', async () => {
    const core = new RecordingCore();
    const out = await finishDiff({
      core,
      env: ENV,
      inputs: { 'comment-on-pr': false, 'github-token': undefined },
      kamal: kamalWith(undefined),
      error: new Error('x'),
      errorText: 'Secret SECRET_TOKEN not found',
      redact,
      state,
      exitCode: 1,
    });
    expect(out).toEqual({ exitCode: 1 });
    expect(core.failed).toBe(true);
    expect(core.outputs).toEqual({ changed: '', version: '', report: '' });
    expect(core.summary).toContain('Secret SECRET_TOKEN not found');
  });
});
