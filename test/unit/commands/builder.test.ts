import { describe } from 'vitest';
import { builderCases } from './builder.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: builder commands', () => runCases(builderCases));
