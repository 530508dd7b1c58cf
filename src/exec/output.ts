/**
 * Collects one output stream of a command (stdout or stderr), decoding UTF-8
 * across chunk boundaries, and redacts the command's secret values from both
 * the collected text and what is streamed to a callback. When there are
 * secrets, streaming is line-buffered so a value split across chunks is still
 * caught.
 */
import { StringDecoder } from 'node:string_decoder';
import { redactText } from '../secret.js';

export class OutputCollector {
  readonly #decoder = new StringDecoder('utf8');
  readonly #secrets: readonly string[];
  readonly #onChunk: ((chunk: string) => void) | undefined;
  #text = '';
  #pending = '';
  #ended = false;

  constructor(secrets: readonly string[], onChunk?: (chunk: string) => void) {
    this.#secrets = secrets.filter((s) => s.length > 0);
    this.#onChunk = onChunk;
  }

  write(data: Buffer | string): void {
    if (this.#ended) return;
    const s = typeof data === 'string' ? data : this.#decoder.write(data);
    this.#push(s);
  }

  end(): void {
    if (this.#ended) return;
    this.#push(this.#decoder.end());
    this.#ended = true;
    if (this.#pending) {
      this.#emit(this.#redact(this.#pending));
      this.#pending = '';
    }
  }

  /** Everything received so far, redacted. */
  text(): string {
    return this.#redact(this.#text);
  }

  #push(s: string): void {
    if (!s) return;
    this.#text += s;
    if (!this.#onChunk) return;
    if (this.#secrets.length === 0) {
      this.#emit(s);
      return;
    }
    this.#pending += s;
    const nl = this.#pending.lastIndexOf('\n');
    if (nl < 0) return;
    const complete = this.#pending.slice(0, nl + 1);
    this.#pending = this.#pending.slice(nl + 1);
    this.#emit(this.#redact(complete));
  }

  #emit(s: string): void {
    if (!s || !this.#onChunk) return;
    try {
      this.#onChunk(s);
    } catch {
      // a faulty listener must not break the command
    }
  }

  #redact(s: string): string {
    return this.#secrets.length ? redactText(s, this.#secrets) : s;
  }
}
