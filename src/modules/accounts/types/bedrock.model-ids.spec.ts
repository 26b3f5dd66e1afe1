import { bedrockModelId, bedrockRegionGroup } from './bedrock.model-ids';

describe('bedrockModelId', () => {
  it('should map a Claude name, dated or not, to the region group cross-region profile', () => {
    expect(bedrockModelId('claude-sonnet-4-5', { region: 'us-east-1' })).toBe(
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(bedrockModelId('claude-sonnet-4-5-20250929', { region: 'eu-central-1' })).toBe(
      'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(bedrockModelId('claude-haiku-4-5-20251001', { region: 'ap-northeast-1' })).toBe(
      'apac.anthropic.claude-haiku-4-5-20251001-v1:0',
    );
    expect(bedrockModelId('claude-opus-4-6[1m]', { region: 'us-west-2' })).toBe(
      'us.anthropic.claude-opus-4-6-v1',
    );
  });

  it('should use the global profile or the in-region id when the account says so', () => {
    const name = 'claude-sonnet-4-6';
    expect(bedrockModelId(name, { region: 'us-east-1', inferenceProfile: 'global' })).toBe(
      'global.anthropic.claude-sonnet-4-6',
    );
    expect(bedrockModelId(name, { region: 'us-east-1', inferenceProfile: 'none' })).toBe(
      'anthropic.claude-sonnet-4-6',
    );
    // A region outside the known groups gets the in-region id.
    expect(bedrockModelId(name, { region: 'sa-east-1' })).toBe('anthropic.claude-sonnet-4-6');
  });

  it('should prefer the account mapping, by exact name then by name without its date', () => {
    const modelIds = {
      'claude-sonnet-4-5':
        'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc',
      'claude-haiku-4-5-20251001': 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
    };
    expect(bedrockModelId('claude-sonnet-4-5-20250929', { region: 'us-east-1', modelIds })).toBe(
      modelIds['claude-sonnet-4-5'],
    );
    expect(bedrockModelId('claude-haiku-4-5-20251001', { region: 'us-east-1', modelIds })).toBe(
      modelIds['claude-haiku-4-5-20251001'],
    );
  });

  it('should pass Bedrock ids, ARNs and unknown names as they are, and map its own answers to themselves', () => {
    for (const model of [
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1:1:inference-profile/x',
      'some-other-model',
    ]) {
      expect(bedrockModelId(model, { region: 'us-east-1' })).toBe(model);
    }
    const once = bedrockModelId('claude-opus-4-1', { region: 'eu-west-1' });
    expect(bedrockModelId(once, { region: 'eu-west-1' })).toBe(once);
  });
});

describe('bedrockRegionGroup', () => {
  it('should name the group of a region, or null', () => {
    expect(bedrockRegionGroup('us-gov-west-1')).toBe('us');
    expect(bedrockRegionGroup('ca-central-1')).toBe('us');
    expect(bedrockRegionGroup('eu-north-1')).toBe('eu');
    expect(bedrockRegionGroup('ap-southeast-2')).toBe('apac');
    expect(bedrockRegionGroup('me-south-1')).toBeNull();
  });
});
