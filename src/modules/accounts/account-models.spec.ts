import { accountServesModel, upstreamModelName } from './account-models';

describe('account models', () => {
  describe(accountServesModel.name, () => {
    it('should serve every model when models is null', () => {
      expect(accountServesModel(null, 'anything')).toBe(true);
    });

    it('should serve listed names and wildcard matches when models is a list', () => {
      const models = ['claude-sonnet-4-5', 'claude-opus-*'];
      expect(accountServesModel(models, 'claude-sonnet-4-5')).toBe(true);
      expect(accountServesModel(models, 'claude-opus-4-1')).toBe(true);
      expect(accountServesModel(models, 'claude-3-5-haiku')).toBe(false);
    });

    it('should serve exactly the keys when models is a mapping', () => {
      const models = { 'claude-sonnet-4-5': 'sonnet-mirror' };
      expect(accountServesModel(models, 'claude-sonnet-4-5')).toBe(true);
      expect(accountServesModel(models, 'sonnet-mirror')).toBe(false);
      expect(accountServesModel(models, 'toString')).toBe(false);
    });
  });

  describe(upstreamModelName.name, () => {
    it('should rename through a mapping and keep the name otherwise', () => {
      expect(upstreamModelName({ a: 'b' }, 'a')).toBe('b');
      expect(upstreamModelName({ a: 'b' }, 'c')).toBe('c');
      expect(upstreamModelName(['a'], 'a')).toBe('a');
      expect(upstreamModelName(null, 'a')).toBe('a');
    });
  });
});

describe('account models against crafted names', () => {
  it('should decide a multi-wildcard pattern when the model name is 1 MB long', () => {
    // The RegExp-based matcher took minutes here (quadratic and worse in the name).
    const name = `claude-${'-'.repeat(1024 * 1024)}`;
    expect(accountServesModel(['claude-*-*-*-*-4*x'], name)).toBe(false);
    expect(accountServesModel(['claude-*-*-*-*-4*x'], `${name}-4x`)).toBe(true);
  });
});
