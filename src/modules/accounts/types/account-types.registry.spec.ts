import type { CredentialField } from './account-type.descriptor';
import {
  ACCOUNT_TYPES,
  accountTypeDescriptors,
  descriptorOf,
  findDescriptor,
  isAccountType,
  type AccountType,
} from './account-types.registry';

/** A JWT whose payload is `claims` (unsigned: only the claims are read). */
function jwt(claims: Record<string, unknown>): string {
  return `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

/** A valid value of a field of any kind; secrets carry a marker the summary must not show. */
function sampleValue(
  field: CredentialField,
): string | number | Record<string, string> | Record<string, unknown> {
  switch (field.kind) {
    case 'object':
      return {};
    case 'timestamp':
      return 1_900_000_000_000;
    case 'enum':
      return field.values?.[0] ?? '';
    case 'map':
      return { 'gpt-4.1-mini': 'mini-deployment' };
    case 'string':
      // Fields whose values are checked beyond their kind get a valid one.
      if (field.name === 'idToken') return jwt({ note: 'SECRET-0123456789' });
      if (field.name === 'apiVersion') return '2024-10-21';
      if (field.name === 'region') return 'eu-central-1';
      return field.secret ? `sk-test-${field.name}-SECRET-0123456789` : `${field.name}-value`;
  }
}

/** Fields a type accepts but not all together (Azure takes a key or a token, not both). */
const ALTERNATIVES: Record<string, readonly string[]> = {
  'azure-openai': ['entraToken'],
  bedrock: ['apiKey'],
};

/** One valid credentials object of a type, with every field it can take at once. */
function sampleInput(
  descriptor: ReturnType<typeof accountTypeDescriptors>[number],
  without?: CredentialField,
): Record<string, unknown> {
  const skipped = ALTERNATIVES[descriptor.type] ?? [];
  return Object.fromEntries(
    descriptor.credentialFields
      .filter((f) => f !== without && !skipped.includes(f.name))
      .map((f) => [f.name, sampleValue(f)]),
  );
}

describe('account types registry', () => {
  describe('ACCOUNT_TYPES', () => {
    it('should list the registered types in registry order', () => {
      expect(ACCOUNT_TYPES).toEqual([
        'claude-oauth',
        'claude-console',
        'ccr',
        'openai',
        'codex-oauth',
        'azure-openai',
        'gemini-api',
        'gemini-oauth',
        'bedrock',
        'openai-compatible',
        'droid',
      ]);
    });
  });

  describe(descriptorOf.name, () => {
    it('should answer the descriptor of each type', () => {
      for (const type of ACCOUNT_TYPES) expect(descriptorOf(type).type).toBe(type);
    });

    it('should throw when the type is not registered', () => {
      expect(() => descriptorOf('vertex' as AccountType)).toThrow('unknown account type vertex');
    });
  });

  describe(findDescriptor.name, () => {
    it('should answer undefined when a stored type is unknown', () => {
      expect(findDescriptor('claude-oauth')?.label).toBe('Claude subscription (OAuth)');
      expect(findDescriptor('vertex')).toBeUndefined();
      expect(isAccountType('vertex')).toBe(false);
      expect(isAccountType('ccr')).toBe(true);
    });
  });

  describe.each(accountTypeDescriptors().map((d) => [d.type, d] as const))(
    'descriptor %s',
    (_type, descriptor) => {
      it('should name each credential field once and give enum fields their values', () => {
        const names = descriptor.credentialFields.map((field) => field.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names).not.toContain('type');
        for (const field of descriptor.credentialFields) {
          if (field.kind === 'enum') expect(field.values?.length).toBeGreaterThan(0);
          expect(field.description).not.toBe('');
        }
      });

      it('should parse credentials made of its fields into exactly those fields', () => {
        const input = sampleInput(descriptor);
        expect(descriptor.parseCredentials(input)).toEqual({ type: descriptor.type, ...input });
      });

      it('should refuse credentials that miss a required field', () => {
        for (const field of descriptor.credentialFields.filter((f) => f.required)) {
          expect(() => descriptor.parseCredentials(sampleInput(descriptor, field))).toThrow(
            `credentials.${field.name} is required for ${descriptor.type} accounts`,
          );
        }
      });

      it('should refuse a field it does not have, naming the ones it has', () => {
        expect(() =>
          descriptor.parseCredentials({ ...sampleInput(descriptor), bogusField: 'x' }),
        ).toThrow(`unexpected: bogusField`);
      });

      it('should describe credentials without showing a secret', () => {
        const input = sampleInput(descriptor);
        const summary = descriptor.describeCredentials(descriptor.parseCredentials(input));
        expect(summary).toMatchObject({ type: descriptor.type, readable: true });
        expect(JSON.stringify(summary)).not.toContain('SECRET');
      });

      it('should name model families that it lists', () => {
        for (const model of ['claude-opus-4-1', 'claude-sonnet-4-5', 'gpt-4o', '']) {
          expect(descriptor.modelFamilies).toContain(descriptor.modelFamily(model));
        }
      });

      it('should build a test request that asks for the given model', () => {
        const request = descriptor.testRequest.build('some-model');
        expect(request.path.startsWith('/')).toBe(true);
        // In the body, or in the path where the API names the model there (Gemini, Bedrock).
        expect(`${request.path} ${JSON.stringify(request.body)}`).toMatch(
          /"some-model"|\/some-model[:/]/,
        );
      });
    },
  );

  describe('every type', () => {
    it('should default to its provider base URL except ccr and azure-openai, which name their own', () => {
      expect(ACCOUNT_TYPES.map((type) => [type, descriptorOf(type).defaultBaseUrlSetting])).toEqual(
        [
          ['claude-oauth', 'ANTHROPIC_BASE_URL'],
          ['claude-console', 'ANTHROPIC_BASE_URL'],
          ['ccr', null],
          ['openai', 'OPENAI_BASE_URL'],
          ['codex-oauth', 'CODEX_BASE_URL'],
          ['azure-openai', null],
          ['gemini-api', 'GEMINI_BASE_URL'],
          ['gemini-oauth', 'CODE_ASSIST_BASE_URL'],
          ['bedrock', 'BEDROCK_BASE_URL'],
          ['openai-compatible', null],
          ['droid', 'DROID_BASE_URL'],
        ],
      );
    });

    it('should serve the OpenAI types on the openai platform through their own providers', () => {
      expect(
        ACCOUNT_TYPES.map((type) => [
          type,
          descriptorOf(type).platform,
          descriptorOf(type).provider,
        ]),
      ).toEqual([
        ['claude-oauth', 'claude', 'anthropic'],
        ['claude-console', 'claude', 'anthropic'],
        ['ccr', 'claude', 'anthropic'],
        ['openai', 'openai', 'openai'],
        ['codex-oauth', 'openai', 'codex'],
        ['azure-openai', 'openai', 'azure-openai'],
        ['gemini-api', 'gemini', 'gemini'],
        ['gemini-oauth', 'gemini', 'code-assist'],
        ['bedrock', 'claude', 'bedrock'],
        ['openai-compatible', 'openai', 'openai-compatible'],
        ['droid', 'droid', 'droid'],
      ]);
    });

    it('should give subscription facts to the OAuth types and a refresher to claude-oauth', () => {
      expect(ACCOUNT_TYPES.filter((type) => descriptorOf(type).supportsSubscription)).toEqual([
        'claude-oauth',
        'codex-oauth',
        'gemini-oauth',
      ]);
      expect(ACCOUNT_TYPES.filter((type) => descriptorOf(type).hasRefresher)).toEqual([
        'claude-oauth',
        'codex-oauth',
        'gemini-oauth',
      ]);
    });
  });

  describe('the Anthropic types', () => {
    it('should test with a one-token Messages request to claude-haiku-4-5 by default', () => {
      const test = descriptorOf('claude-console').testRequest;
      expect(test.defaultModel).toBe('claude-haiku-4-5');
      expect(test.build(test.defaultModel)).toEqual({
        method: 'POST',
        path: '/v1/messages',
        body: {
          model: 'claude-haiku-4-5',
          max_tokens: 1,
          messages: [{ role: 'user', content: 'ping' }],
        },
      });
    });
  });
});
