import { describe } from 'vitest';
import { appCases } from './app.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: app commands', () => runCases(appCases));
