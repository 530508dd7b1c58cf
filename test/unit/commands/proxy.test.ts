import { describe } from 'vitest';
import { proxyCases } from './proxy.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: proxy commands', () => runCases(proxyCases));
