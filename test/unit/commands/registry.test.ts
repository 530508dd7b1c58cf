import { describe } from 'vitest';
import { registryCases } from './registry.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: registry commands', () => runCases(registryCases));
