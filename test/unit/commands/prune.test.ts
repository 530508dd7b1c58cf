import { describe } from 'vitest';
import { pruneCases } from './prune.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: prune commands', () => runCases(pruneCases));
