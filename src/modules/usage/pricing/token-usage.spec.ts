import { emptyUsage, promptTokens, totalTokens } from './token-usage';

describe(totalTokens.name, () => {
  it('should add every token kind when given a usage', () => {
    const usage = {
      inputTokens: 1,
      outputTokens: 20,
      cacheCreation5mTokens: 300,
      cacheCreation1hTokens: 4000,
      cacheReadTokens: 50000,
    };
    expect(totalTokens(usage)).toBe(54321);
    expect(promptTokens(usage)).toBe(54301);
  });

  it('should be zero when the usage is empty', () => {
    expect(totalTokens(emptyUsage())).toBe(0);
  });
});

describe(emptyUsage.name, () => {
  it('should return a fresh object when called twice', () => {
    const a = emptyUsage();
    a.inputTokens = 5;
    expect(emptyUsage().inputTokens).toBe(0);
  });
});
