import { describe } from 'vitest';
import { dockerCases } from './docker.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: docker commands', () => runCases(dockerCases));
