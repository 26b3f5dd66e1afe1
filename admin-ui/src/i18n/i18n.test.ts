import { describe, expect, it } from 'vitest';
import { resources } from '@/i18n';

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([key, child]) =>
    keys(child, prefix ? `${prefix}.${key}` : key),
  );
}

function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Object.values(value as object).flatMap(leaves);
}

describe('translations', () => {
  it('zh has exactly the keys of en in every namespace', () => {
    for (const namespace of Object.keys(resources.en) as Array<keyof typeof resources.en>) {
      expect(keys(resources.zh[namespace]).sort()).toEqual(keys(resources.en[namespace]).sort());
    }
  });

  it('no zh string is left empty', () => {
    for (const text of leaves(resources.zh)) expect(text.trim()).not.toBe('');
  });
});
