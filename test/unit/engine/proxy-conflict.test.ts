import { describe, expect, it } from 'vitest';
import { conflictMessage, conflictingRoutes, parseProxyList } from '../../../src/engine/proxy-conflict.js';

const LIST = `Service       Host             Path  Target                 State    TLS
\x1b[1marticle-web\x1b[0m   userns.test      /     6f1c2b3d4e5f:80        running  no
other-api     api.test         /api  0a0b0c0d0e0f:3000      running  yes
catchall      *                /     1a2b3c4d5e6f:80        stopped  no
`;

describe('kamal-proxy host conflict', () => {
  it('parses `kamal-proxy list`, ANSI styling and the header left out', () => {
    expect(parseProxyList(LIST)).toEqual([
      { service: 'article-web', host: 'userns.test', path: '/' },
      { service: 'other-api', host: 'api.test', path: '/api' },
      { service: 'catchall', host: '*', path: '/' },
    ]);
    expect(parseProxyList('')).toEqual([]);
  });

  it('keeps the routes of other services on the same hosts, the wildcard for a role without hosts', () => {
    const routes = parseProxyList(LIST);
    expect(conflictingRoutes(routes, 'article-app', ['userns.test'])).toEqual([{ service: 'article-web', host: 'userns.test', path: '/' }]);
    expect(conflictingRoutes(routes, 'article-web', ['userns.test'])).toEqual([]);
    expect(conflictingRoutes(routes, 'x-web', [])).toEqual([{ service: 'catchall', host: '*', path: '/' }]);
  });

  it('names the service holding the route and the command that frees it', () => {
    const holders = parseProxyList(LIST).filter((r) => r.host === 'userns.test');
    expect(conflictMessage({ host: '127.0.0.10', service: 'article-app', holders, proxyContainer: 'kamal-proxy' })).toBe(
      'kamal-proxy on 127.0.0.10 refused to route article-app: host settings conflict with another service. ' +
        'article-web (userns.test) already routes it, as after a renamed role or service, or another app on the same host name. ' +
        'If it is the old name of this app, remove its route and stop its containers on 127.0.0.10: ' +
        'docker exec kamal-proxy kamal-proxy remove article-web; otherwise give this app another proxy host.',
    );
  });

  it('without a list to read, says how to get one', () => {
    expect(conflictMessage({ host: 'h', service: 's-web', holders: [], proxyContainer: 'kamal-proxy' })).toBe(
      'kamal-proxy on h refused to route s-web: host settings conflict with another service. ' +
        'Another service already routes the same host and path; list them with: docker exec kamal-proxy kamal-proxy list',
    );
  });
});
