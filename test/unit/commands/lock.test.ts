import { describe } from 'vitest';
import { lockCases } from './lock.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: lock commands', () => runCases(lockCases));
