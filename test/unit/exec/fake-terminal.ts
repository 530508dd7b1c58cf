/** Stand-ins for a terminal's (or pipe's) stdin, stdout and stderr. */
import { PassThrough, Writable } from 'node:stream';

/** A terminal (or pipe) on stdin that records raw mode changes. */
export class FakeStdin extends PassThrough {
  isRaw = false;
  readonly modes: boolean[] = [];
  constructor(readonly isTTY: boolean) {
    super();
  }
  setRawMode(mode: boolean): this {
    if (!this.isTTY) throw new Error('setRawMode on a pipe');
    this.isRaw = mode;
    this.modes.push(mode);
    return this;
  }
}

/** An output stream that keeps what was written and tells waiters. */
export class FakeOut extends Writable {
  readonly chunks: Buffer[] = [];
  #waiters: (() => void)[] = [];
  constructor(
    readonly isTTY: boolean,
    public rows?: number,
    public columns?: number,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    for (const w of this.#waiters.splice(0)) w();
    cb();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
  /** Resolves once the output holds `s`. */
  async until(s: string): Promise<void> {
    while (!this.text.includes(s)) await new Promise<void>((r) => this.#waiters.push(r));
  }
  resize(rows: number, columns: number): void {
    this.rows = rows;
    this.columns = columns;
    this.emit('resize');
  }
}
