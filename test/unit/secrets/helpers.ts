/**
 * Kamal's secret adapter tests stub backticks: `stub_ticks.with("op item get ...").returns(json)`.
 * Here the vendor runner plays that part: each stub is Kamal's own command string, read back into
 * the words the vendor CLI receives (shellsplit), `2> /dev/null` and a leading `BW_SESSION=...`
 * taken apart. As with mocha, the stub defined last wins, and a list of outputs is given in turn,
 * the last one repeating. Every call is recorded, so tests compare the whole transcript.
 */
import { runCli, type CliResult } from '../../../src/cli/run.js';
import { MemoryReporter } from '../../../src/engine/reporter.js';
import { shellsplit } from '../../../src/config/ruby.js';
import type { VendorCall, VendorResult, VendorRunner } from '../../../src/secrets/adapters/index.js';

/** A Kamal command string (`BW_SESSION=x bw status`, `op --version 2> /dev/null`) as a call. */
export function kamalCall(line: string): VendorCall {
  let text = line;
  const call: VendorCall = { argv: [] };
  if (text.endsWith(' 2> /dev/null')) {
    text = text.slice(0, -' 2> /dev/null'.length);
    call.quiet = true;
  }
  const words = shellsplit(text);
  while (words.length > 0 && /^[A-Z_]+=/.test(words[0]!)) {
    const w = words.shift()!;
    const i = w.indexOf('=');
    call.env = { ...call.env, [w.slice(0, i)]: w.slice(i + 1) };
  }
  call.argv = words;
  return call;
}

const key = (c: VendorCall): string => JSON.stringify([c.argv, Object.entries(c.env ?? {}).sort(), !!c.quiet]);

interface Stub {
  key: string;
  outputs: string[];
  succeed: boolean;
  calls: number;
}

export class StubVendor {
  readonly calls: VendorCall[] = [];
  #stubs: Stub[] = [];

  /** `stub_ticks.with(line).returns(...outputs)`; without outputs the command prints nothing. */
  stub(line: string, ...outputs: string[]): this {
    return this.stubWith(line, { succeed: true }, ...outputs);
  }

  /** `stub_ticks_with(line, succeed: false)`. */
  stubWith(line: string, o: { succeed: boolean }, ...outputs: string[]): this {
    this.#stubs.push({ key: key(kamalCall(line)), outputs, succeed: o.succeed, calls: 0 });
    return this;
  }

  readonly run: VendorRunner = (call: VendorCall): VendorResult => {
    this.calls.push(call);
    const stub = [...this.#stubs].reverse().find((s) => s.key === key(call));
    if (!stub) throw new Error(`unexpected vendor command: ${JSON.stringify(call)}`);
    const out = stub.outputs.length === 0 ? '' : stub.outputs[Math.min(stub.calls, stub.outputs.length - 1)]!;
    stub.calls++;
    return { stdout: out, success: stub.succeed };
  };

  /** The transcript, each call as Kamal's string would be read (for toEqual against kamalCall lists). */
  get transcript(): VendorCall[] {
    return this.calls.map((c) => ({ argv: c.argv, ...(c.env ? { env: c.env } : {}), ...(c.quiet ? { quiet: true } : {}) }));
  }
}

export const calls = (...lines: string[]): VendorCall[] =>
  lines.map((l) => {
    const c = kamalCall(l);
    return { argv: c.argv, ...(c.env ? { env: c.env } : {}), ...(c.quiet ? { quiet: true } : {}) };
  });

export interface SecretsRun {
  result: CliResult;
  out: string;
  err: string;
  /** `stdouted`: stdout without surrounding whitespace, as Kamal's tests compare it. */
  stdout: string;
  /** The error Kamal raises (message), when the command failed. */
  error?: string;
  /** Its Ruby class as Kamal raises it (RuntimeError, JSON::ParserError, ...). */
  errorClass?: string;
}

/** `Kamal::Cli::Secrets.start([...])`: our CLI, in-process, with the stubbed vendor CLIs. */
export async function secrets(vendor: StubVendor | undefined, args: string[], env: Record<string, string | undefined> = {}): Promise<SecretsRun> {
  let out = '';
  let err = '';
  const deps = {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, ...env },
    reporter: new MemoryReporter(),
    out: (s: string) => (out += s),
    err: (s: string) => (err += s),
    vendorRunner:
      vendor?.run ??
      (() => {
        throw new Error('no vendor command expected');
      }),
  };
  const result = await runCli(['secrets', ...args], deps);
  const e = result.error as { message?: string; rubyClass?: string } | undefined;
  return { result, out, err, stdout: out.trim(), error: e?.message, errorClass: e?.rubyClass };
}
