/**
 * Bundled dependencies written as CommonJS (ssh2's pure-JS crypto) read `__dirname`,
 * which an ES module bundle does not define. Imported first by the entry points.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const g = globalThis as { __dirname?: string; __filename?: string };
g.__filename ??= fileURLToPath(import.meta.url);
g.__dirname ??= dirname(g.__filename);
