import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error: a plain .mjs script without types
import { END, START, patchBetweenMarkers, renderActionDocs } from '../../../scripts/gen-action-docs.mjs';
import { getInputs } from '../../../src/action/inputs.js';
import { Outputs } from '../../../src/action/constants.js';

const actionYml = readFileSync('action.yml', 'utf8');
const action = parse(actionYml) as {
  inputs: Record<string, { default?: string; description: string }>;
  outputs: Record<string, { description: string }>;
  runs: Record<string, string>;
};

describe('action.yml', () => {
  it('runs one bundle as the main and the post step on node24, post always', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/action/index.js', post: 'dist/action/index.js', 'post-if': 'always()' });
  });

  it('declares exactly the inputs getInputs reads, and its defaults pass validation', () => {
    const read: string[] = [];
    getInputs((name) => {
      read.push(name);
      return action.inputs[name]?.default ?? '';
    });
    expect(new Set(read)).toEqual(new Set(Object.keys(action.inputs)));
  });

  it('declares exactly the outputs the action sets', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(Outputs).sort());
  });

  it('every input and output has a description', () => {
    for (const [, v] of [...Object.entries(action.inputs), ...Object.entries(action.outputs)]) {
      expect(typeof v.description).toBe('string');
      expect(v.description.length).toBeGreaterThan(10);
    }
  });
});

describe('gen-action-docs', () => {
  it.each(['docs/action.md', 'README.md'])('%s holds the tables generated from action.yml', (file) => {
    const doc = readFileSync(file, 'utf8');
    expect(doc).toContain('| `ssh-private-key` |');
    expect(patchBetweenMarkers(doc, renderActionDocs(actionYml))).toBe(doc);
  });

  it('renders one row per input and output, with pipes escaped and lines joined', () => {
    const md = renderActionDocs(
      'inputs:\n  a:\n    description: "x | y\\nz"\n    required: true\n    default: "1"\n  b:\n    description: B\noutputs:\n  o:\n    description: O\nruns:\n  using: node24\n  main: m.js\n',
    );
    expect(md).toBe(
      [
        '### Inputs',
        '',
        '| Input | Required | Default | Description |',
        '| --- | --- | --- | --- |',
        '| `a` | yes | `1` | x \\| y z |',
        '| `b` | no |  | B |',
        '',
        '### Outputs',
        '',
        '| Output | Description |',
        '| --- | --- |',
        '| `o` | O |',
        '',
        'Runs on `node24`.',
        '',
      ].join('\n'),
    );
  });

  it('patches a README section between the markers and insists on them', () => {
    expect(patchBetweenMarkers(`# R\n${START}\nold\n${END}\ntail\n`, 'new\n')).toBe(`# R\n${START}\nnew\n${END}\ntail\n`);
    expect(() => patchBetweenMarkers('# R\n', 'x', 'README.md')).toThrow('README.md has no');
  });
});

describe('example workflows', () => {
  const dir = '.github/workflows/examples';
  const files = readdirSync(dir).filter((f) => f.endsWith('.yml'));
  it.each(files)('%s passes only declared inputs to the action', (file) => {
    const wf = parse(readFileSync(`${dir}/${file}`, 'utf8')) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }> };
    let uses = 0;
    for (const job of Object.values(wf.jobs)) {
      for (const step of job.steps) {
        if (!step.uses?.startsWith('kamal-action/kamal-action@')) continue;
        uses++;
        for (const key of Object.keys(step.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
      }
    }
    expect(uses).toBeGreaterThan(0);
  });
});
