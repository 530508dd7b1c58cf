import { describe } from 'vitest';
import { auditorCases } from './auditor.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: auditor commands', () => runCases(auditorCases));
