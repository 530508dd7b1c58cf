// Generates the input and output tables of the action from action.yml and writes
// them between `<!-- action-docs:start -->` and `<!-- action-docs:end -->` in
// docs/action.md and README.md (and in any other file given with --readme FILE).
//   node scripts/gen-action-docs.mjs [--check] [--readme README.md]
// --check changes nothing and exits 1 when a file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const START = '<!-- action-docs:start -->';
export const END = '<!-- action-docs:end -->';

function cell(text) {
  return String(text ?? '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

/** The Markdown tables for an action.yml text. */
export function renderActionDocs(actionYml) {
  const action = parse(actionYml);
  const lines = ['### Inputs', '', '| Input | Required | Default | Description |', '| --- | --- | --- | --- |'];
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const def = spec?.default === undefined || spec.default === '' ? '' : `\`${cell(spec.default)}\``;
    lines.push(`| \`${name}\` | ${spec?.required ? 'yes' : 'no'} | ${def} | ${cell(spec?.description)} |`);
  }
  lines.push('', '### Outputs', '', '| Output | Description |', '| --- | --- |');
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    lines.push(`| \`${name}\` | ${cell(spec?.description)} |`);
  }
  const runs = action.runs ?? {};
  lines.push('', `Runs on \`${runs.using}\`${runs.post ? ` with a post step (\`post-if: ${runs['post-if'] ?? 'always()'}\`)` : ''}.`);
  return `${lines.join('\n')}\n`;
}

/** Replaces the text between the markers; throws when they are missing. */
export function patchBetweenMarkers(text, generated, file = 'file') {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} has no ${START} ... ${END} section`);
  return `${text.slice(0, start + START.length)}\n${generated}${text.slice(end)}`;
}

function main(argv) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const check = argv.includes('--check');
  const files = [join(root, 'docs/action.md'), join(root, 'README.md')];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--readme' && argv[i + 1]) files.push(resolve(argv[++i]));
  const generated = renderActionDocs(readFileSync(join(root, 'action.yml'), 'utf8'));
  let stale = false;
  for (const file of files) {
    const before = readFileSync(file, 'utf8');
    const after = patchBetweenMarkers(before, generated, file);
    if (after === before) continue;
    stale = true;
    if (check) console.error(`${file} is out of date: run node scripts/gen-action-docs.mjs`);
    else {
      writeFileSync(file, after);
      console.log(`updated ${file}`);
    }
  }
  if (check && stale) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
