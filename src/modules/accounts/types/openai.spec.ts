import { AccountsException } from '../accounts.exception';
import { openAICredentialHeaders, openAIDescriptor } from './openai';

describe('openai account type', () => {
  const parse = (input: unknown) => openAIDescriptor.parseCredentials(input);

  describe('parseCredentials', () => {
    it('should keep the key, organization and project, trimmed', () => {
      expect(
        parse({
          apiKey: ' sk-proj-0123456789abcdefghij ',
          organization: 'org-abc',
          project: 'proj_1',
        }),
      ).toEqual({
        type: 'openai',
        apiKey: 'sk-proj-0123456789abcdefghij',
        organization: 'org-abc',
        project: 'proj_1',
      });
      expect(parse({ type: 'openai', apiKey: 'sk-1', organization: null })).toEqual({
        type: 'openai',
        apiKey: 'sk-1',
      });
    });

    it('should name the problem without echoing the key when the credentials are wrong', () => {
      const secret = 'sk-proj-SECRET 0123456789';
      const attempts: [unknown, string][] = [
        [{}, 'credentials.apiKey is required for openai accounts'],
        [
          { apiKey: secret },
          'credentials.apiKey must not contain whitespace or control characters',
        ],
        [
          { apiKey: 'sk-1', organization: 'org\n1' },
          'credentials.organization must not contain control characters',
        ],
        [
          { apiKey: 'sk-1', accessToken: 'x' },
          'credentials of openai accounts accept apiKey, organization, project; unexpected: accessToken',
        ],
        [{ type: 'codex-oauth', apiKey: 'sk-1' }, 'credentials.type must be openai'],
      ];
      for (const [input, message] of attempts) {
        let error: unknown;
        try {
          parse(input);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(AccountsException);
        expect((error as Error).message).toContain(message);
        expect((error as Error).message).not.toContain('SECRET');
      }
    });
  });

  describe('describeCredentials', () => {
    it('should show a hint of the key and the organization and project as they are', () => {
      expect(
        openAIDescriptor.describeCredentials(
          parse({ apiKey: 'sk-proj-0123456789abcdefghijWXYZ', project: 'proj_1' }),
        ),
      ).toEqual({
        type: 'openai',
        readable: true,
        apiKeyHint: 'sk-proj…WXYZ',
        organization: null,
        project: 'proj_1',
      });
    });
  });

  describe(openAICredentialHeaders.name, () => {
    it('should send the key as a bearer token and organization and project as OpenAI headers', () => {
      expect(
        openAICredentialHeaders(
          parse({ apiKey: 'sk-1', organization: 'org-a', project: 'proj_b' }),
        ),
      ).toEqual({
        authorization: 'Bearer sk-1',
        'openai-organization': 'org-a',
        'openai-project': 'proj_b',
      });
      expect(openAICredentialHeaders(parse({ apiKey: 'sk-1' }))).toEqual({
        authorization: 'Bearer sk-1',
      });
    });
  });

  describe('testRequest', () => {
    const test = openAIDescriptor.testRequest;

    it('should ask a non-reasoning model for one Chat Completions token', () => {
      expect(test.defaultModel).toBe('gpt-4.1-mini');
      expect(test.build('gpt-4.1-mini')).toEqual({
        method: 'POST',
        path: '/chat/completions',
        body: {
          model: 'gpt-4.1-mini',
          max_completion_tokens: 1,
          messages: [{ role: 'user', content: 'ping' }],
        },
      });
    });

    it('should ask a reasoning model through Responses for the 16 tokens it allows at least', () => {
      for (const model of ['gpt-5-mini', 'o4-mini', 'o3', 'codex-mini-latest']) {
        expect(test.build(model)).toEqual({
          method: 'POST',
          path: '/responses',
          body: { model, input: 'ping', max_output_tokens: 16 },
        });
      }
    });
  });
});
