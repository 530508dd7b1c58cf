import { describe } from 'vitest';
import { accessoryCases } from './accessory.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: accessory commands', () => runCases(accessoryCases));
