import { describe, expect, it } from 'vitest';
import { formatTarget, parseHostSpec } from '../../../src/ssh/host.js';
import { OutputCollector } from '../../../src/exec/output.js';
import { expandProxyCommand } from '../../../src/ssh/proxy.js';
import { Semaphore } from '../../../src/ssh/semaphore.js';
import { render } from '../../../src/shell.js';
import { uploadCommand } from '../../../src/ssh/pool.js';

const D = { user: 'root', port: 22 };

describe('parseHostSpec', () => {
  it.each([
    ['10.0.0.1', { user: 'root', host: '10.0.0.1', port: 22 }],
    ['app@10.0.0.1', { user: 'app', host: '10.0.0.1', port: 22 }],
    ['10.0.0.1:2222', { user: 'root', host: '10.0.0.1', port: 2222 }],
    ['app@web.example:2200', { user: 'app', host: 'web.example', port: 2200 }],
    ['[::1]:2222', { user: 'root', host: '::1', port: 2222 }],
    ['app@[fe80::1]', { user: 'app', host: 'fe80::1', port: 22 }],
    ['fe80::1', { user: 'root', host: 'fe80::1', port: 22 }],
  ])('%s', (spec, want) => {
    expect(parseHostSpec(spec, D)).toEqual(want);
  });

  it('uses the given defaults', () => {
    expect(parseHostSpec('h', { user: 'deploy', port: 2022 })).toEqual({ user: 'deploy', host: 'h', port: 2022 });
  });

  it.each(['', '@h', 'h:x', 'h:0', 'h:70000', 'u@'])('rejects %j', (spec) => {
    expect(() => parseHostSpec(spec, D)).toThrow();
  });

  it('formats a canonical key', () => {
    expect(formatTarget(parseHostSpec('h', D))).toBe('root@h:22');
    expect(formatTarget(parseHostSpec('[::1]:2', D))).toBe('root@[::1]:2');
  });
});

describe('Semaphore', () => {
  it('never grants more than the limit and serves waiters in order', async () => {
    const s = new Semaphore(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        s.use(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('lowering the limit holds new waiters until enough permits are released', async () => {
    const s = new Semaphore(3);
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    s.setLimit(1);
    let got = false;
    const p = s.acquire().then((r) => {
      got = true;
      return r;
    });
    r1();
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toBe(false);
    r2();
    (await p)();
    expect(got).toBe(true);
    expect(s.inUse).toBe(0);
  });

  it('an aborted waiter leaves the queue', async () => {
    const s = new Semaphore(1);
    const r = await s.acquire();
    const ac = new AbortController();
    const p = s.acquire(ac.signal);
    ac.abort();
    await expect(p).rejects.toBeDefined();
    expect(s.waiting).toBe(0);
    r();
    expect(s.inUse).toBe(0);
  });
});

describe('OutputCollector', () => {
  it('decodes UTF-8 split across chunks', () => {
    const o = new OutputCollector([]);
    const bytes = Buffer.from('ü✓日本');
    for (const b of bytes) o.write(Buffer.from([b]));
    o.end();
    expect(o.text()).toBe('ü✓日本');
  });

  it('redacts a secret split across chunks, in text and stream', () => {
    const chunks: string[] = [];
    const o = new OutputCollector(['supersecret'], (c) => chunks.push(c));
    o.write(Buffer.from('a super'));
    o.write(Buffer.from('secret b\nnext '));
    o.write(Buffer.from('supersecret'));
    o.end();
    expect(o.text()).toBe('a [REDACTED] b\nnext [REDACTED]');
    expect(chunks.join('')).toBe('a [REDACTED] b\nnext [REDACTED]');
  });

  it('streams chunks as they come when there is nothing to redact', () => {
    const chunks: string[] = [];
    const o = new OutputCollector([], (c) => chunks.push(c));
    o.write('a');
    o.write('b');
    expect(chunks).toEqual(['a', 'b']);
  });
});

describe('proxy command expansion', () => {
  it('substitutes %h %p %r %%', () => {
    expect(expandProxyCommand('ssh -W %h:%p %r@jump 100%%', '10.0.0.1', 22, 'app')).toBe('ssh -W 10.0.0.1:22 app@jump 100%');
  });
  it('quotes values that need it', () => {
    expect(expandProxyCommand('nc %h %p', 'a;b', 22, 'u')).toBe(`nc 'a;b' 22`);
  });
  it('rejects unknown tokens', () => {
    expect(() => expandProxyCommand('nc %x', 'h', 22, 'u')).toThrow(/%x/);
  });
});

describe('uploadCommand', () => {
  it('writes in place without a mode', () => {
    expect(render(uploadCommand('/etc/app/x y.env'))).toBe(`cat > '/etc/app/x y.env'`);
  });
  it('writes a private temporary file and renames it with a mode', () => {
    const line = render(uploadCommand('/etc/app/.env', '600'));
    expect(line).toMatch(
      /^\(umask 077 && cat > \/etc\/app\/\.\.env\.tmp-[0-9a-f]{12} && chmod 600 \/etc\/app\/\.\.env\.tmp-[0-9a-f]{12} && mv -f \/etc\/app\/\.\.env\.tmp-[0-9a-f]{12} \/etc\/app\/\.env\) \|\| \(rm -f \/etc\/app\/\.\.env\.tmp-[0-9a-f]{12} && false\)$/,
    );
  });
  it('rejects a bad mode', () => {
    expect(() => uploadCommand('/x', 'rw')).toThrow(/mode/);
  });
});
