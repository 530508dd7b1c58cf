import { describe } from 'vitest';
import { accessoryCases, accessoryPathCases } from './accessory.cases.js';
import { runCases } from './kamal-cases.js';

describe('Kamal parity: accessory commands', () => runCases(accessoryCases));
describe('accessory files and directories as Kamal CLI creates them', () => runCases(accessoryPathCases));
