import { describe } from 'vitest';
import { serverCases } from './server.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: server commands', () => runCases(serverCases));
