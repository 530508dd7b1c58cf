/** Kamal's Test adapter (`--adapter test`): each secret's value is its name reversed (LPAREN/RPAREN as parentheses). */
import { prefixedSecrets, type Adapter, type SecretValues } from './types.js';

export const test: Adapter = {
  name: 'Test',
  requiresAccount: true,
  checkDependencies() {},
  login() {
    return undefined;
  },
  fetchSecrets(_ctx, secrets, { from }) {
    const results: SecretValues = new Map();
    for (const s of prefixedSecrets(secrets, from)) {
      results.set(s, [...s.replaceAll('LPAREN', '(').replaceAll('RPAREN', ')')].reverse().join(''));
    }
    return results;
  },
};
