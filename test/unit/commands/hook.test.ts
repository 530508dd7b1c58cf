import { describe } from 'vitest';
import { hookCases } from './hook.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: hook commands', () => runCases(hookCases));
