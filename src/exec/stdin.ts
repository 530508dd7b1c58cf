/**
 * Data a command reads on its stdin, carried by one of its words: `docker login ...
 * --password-stdin` keeps the password out of every argv (the local process list, and the
 * remote shell's `sh -c` line) and sends it over the SSH channel (or the local pipe) instead.
 * The word travels with the command wherever its words are copied (`docker --context x login ...`).
 */
import { raw, type Command, type RawWord, type Word } from '../shell.js';
import type { Secret } from '../secret.js';

const STDIN = Symbol.for('kamal-action.stdin');

/** The word `flag` (shown and run as is) carrying `data` for the command's stdin. */
export function stdinWord(flag: string, data: Secret): RawWord {
  const w = raw(flag);
  Object.defineProperty(w, STDIN, { value: data, enumerable: false });
  return w;
}

function carried(w: Word): Secret | undefined {
  return typeof w === 'object' && w !== null && STDIN in w ? (w as unknown as Record<symbol, Secret>)[STDIN] : undefined;
}

/** The stdin data a command's words carry, if any. */
export function stdinOf(command: Command): Secret | undefined {
  switch (command.t) {
    case 'cmd':
      for (const w of command.words) {
        const s = carried(w);
        if (s) return s;
      }
      return undefined;
    case 'op':
      for (const p of command.parts) {
        const s = stdinOf(p);
        if (s) return s;
      }
      return undefined;
    default:
      return stdinOf((command as { cmd: Command }).cmd);
  }
}
