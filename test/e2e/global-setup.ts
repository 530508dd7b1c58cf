// vitest globalSetup for the e2e project: brings the lab up (unless LAB=0) and
// shares its description with the tests:
//   - inject('lab') in tests (LabInfo, or null when LAB=0)
//   - env LAB_JSON: path of lab.json (read it with readLab() from test/lab/lab.ts)
import type { TestProject } from 'vitest/node';
import { ensureLab, LAB_JSON, type LabInfo } from '../lab/lab.js';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo | null;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  if (process.env.LAB === '0') {
    project.provide('lab', null);
    return;
  }
  const started = Date.now();
  const info = await ensureLab();
  process.env.LAB_JSON = LAB_JSON;
  process.env.LAB_DIR = info.labDir;
  project.provide('lab', info);
  process.stderr.write(`[lab] ready in ${((Date.now() - started) / 1000).toFixed(1)}s: ${info.hosts.map((h) => h.ip).join(' ')}\n`);
}
