/**
 * Copy-ready client configurations for a Switchyard key, as docs/clients.md and the README give
 * them (verified there against the real clients). Pure: the base URL and the key go in, the
 * snippets come out.
 */

/** Shown in place of the secret when it is not known here (it is shown only at creation). */
export const SECRET_PLACEHOLDER = 'sk-sy-…';

export type ClientId = 'claudeCode' | 'codex' | 'gemini' | 'sdks' | 'curl';

export interface Snippet {
  /** A message key of the setup namespace (`snippets.<id>`) naming what the block is. */
  id: string;
  /** `sh`, `json`, `toml`, `ts`, `python`: for the reader, not highlighted. */
  language: string;
  code: string;
}

export interface ClientSetup {
  client: ClientId;
  snippets: Snippet[];
}

/** The address without a trailing slash, so `${base}/openai/v1` never has a double slash. */
export function normaliseBaseUrl(baseUrl: string): string {
  return baseUrl.trim().replace(/\/+$/, '');
}

export function clientSetups(rawBaseUrl: string, secret: string): ClientSetup[] {
  const base = normaliseBaseUrl(rawBaseUrl);
  const key = secret;
  return [
    {
      client: 'claudeCode',
      snippets: [
        {
          id: 'claudeCodeEnv',
          language: 'sh',
          code: [
            `export ANTHROPIC_BASE_URL=${base}`,
            `export ANTHROPIC_API_KEY=${key}`,
            'claude',
          ].join('\n'),
        },
        {
          id: 'claudeCodeSettings',
          language: 'json',
          code: JSON.stringify(
            { env: { ANTHROPIC_BASE_URL: base, ANTHROPIC_AUTH_TOKEN: key } },
            null,
            2,
          ),
        },
      ],
    },
    {
      client: 'codex',
      snippets: [
        {
          id: 'codexConfig',
          language: 'toml',
          code: [
            'model = "claude-sonnet-4-5"',
            'model_provider = "switchyard"',
            'model_reasoning_effort = "medium"',
            'model_supports_reasoning_summaries = true',
            'web_search = "live"',
            '',
            '[model_providers.switchyard]',
            'name = "Switchyard"',
            `base_url = "${base}/openai/v1"`,
            'env_key = "SWITCHYARD_API_KEY"',
            'wire_api = "responses"',
          ].join('\n'),
        },
        {
          id: 'codexEnv',
          language: 'sh',
          code: [`export SWITCHYARD_API_KEY=${key}`, 'codex'].join('\n'),
        },
      ],
    },
    {
      client: 'gemini',
      snippets: [
        {
          id: 'geminiEnv',
          language: 'sh',
          code: [
            `export GEMINI_API_KEY=${key}`,
            `export GOOGLE_GEMINI_BASE_URL=${base}/gemini`,
            'gemini',
          ].join('\n'),
        },
        {
          id: 'geminiSettings',
          language: 'json',
          code: JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }, null, 2),
        },
      ],
    },
    {
      client: 'sdks',
      snippets: [
        { id: 'sdkEnv', language: 'sh', code: `export SWITCHYARD_API_KEY=${key}` },
        {
          id: 'anthropicTs',
          language: 'ts',
          code: [
            "import Anthropic from '@anthropic-ai/sdk';",
            '',
            'const client = new Anthropic({',
            `  baseURL: '${base}',`,
            '  apiKey: process.env.SWITCHYARD_API_KEY,',
            '});',
            'const message = await client.messages.create({',
            "  model: 'claude-sonnet-4-5',",
            '  max_tokens: 1024,',
            "  messages: [{ role: 'user', content: 'Hello' }],",
            '});',
          ].join('\n'),
        },
        {
          id: 'openaiTs',
          language: 'ts',
          code: [
            "import OpenAI from 'openai';",
            '',
            'const client = new OpenAI({',
            `  baseURL: '${base}/openai/v1',`,
            '  apiKey: process.env.SWITCHYARD_API_KEY,',
            '});',
            'const completion = await client.chat.completions.create({',
            "  model: 'claude-sonnet-4-5',",
            "  messages: [{ role: 'user', content: 'Hello' }],",
            '});',
          ].join('\n'),
        },
        {
          id: 'genaiTs',
          language: 'ts',
          code: [
            "import { GoogleGenAI } from '@google/genai';",
            '',
            'const ai = new GoogleGenAI({',
            '  apiKey: process.env.SWITCHYARD_API_KEY,',
            `  httpOptions: { baseUrl: '${base}/gemini' },`,
            '});',
            "const answer = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' });",
          ].join('\n'),
        },
        {
          id: 'anthropicPython',
          language: 'python',
          code: [
            'import os',
            'import anthropic',
            '',
            'client = anthropic.Anthropic(',
            `    base_url="${base}",`,
            '    api_key=os.environ["SWITCHYARD_API_KEY"],',
            ')',
            'message = client.messages.create(',
            '    model="claude-sonnet-4-5",',
            '    max_tokens=1024,',
            '    messages=[{"role": "user", "content": "Hello"}],',
            ')',
          ].join('\n'),
        },
        {
          id: 'openaiPython',
          language: 'python',
          code: [
            'import os',
            'from openai import OpenAI',
            '',
            'client = OpenAI(',
            `    base_url="${base}/openai/v1",`,
            '    api_key=os.environ["SWITCHYARD_API_KEY"],',
            ')',
            'completion = client.chat.completions.create(',
            '    model="claude-sonnet-4-5",',
            '    messages=[{"role": "user", "content": "Hello"}],',
            ')',
          ].join('\n'),
        },
      ],
    },
    {
      client: 'curl',
      snippets: [
        { id: 'curlEnv', language: 'sh', code: [`BASE=${base}`, `KEY=${key}`].join('\n') },
        {
          id: 'curlAnthropic',
          language: 'sh',
          code: [
            `curl -s $BASE/v1/messages -H "x-api-key: $KEY" \\`,
            `  -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \\`,
            `  -d '{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"Hello"}]}'`,
          ].join('\n'),
        },
        {
          id: 'curlOpenaiChat',
          language: 'sh',
          code: [
            `curl -s $BASE/openai/v1/chat/completions -H "authorization: Bearer $KEY" \\`,
            `  -H 'content-type: application/json' \\`,
            `  -d '{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hello"}]}'`,
          ].join('\n'),
        },
        {
          id: 'curlOpenaiResponses',
          language: 'sh',
          code: [
            `curl -s $BASE/openai/v1/responses -H "authorization: Bearer $KEY" \\`,
            `  -H 'content-type: application/json' \\`,
            `  -d '{"model":"claude-sonnet-4-5","input":"Hello"}'`,
          ].join('\n'),
        },
        {
          id: 'curlGemini',
          language: 'sh',
          code: [
            `curl -s "$BASE/gemini/v1beta/models/gemini-2.5-flash:generateContent" -H "x-goog-api-key: $KEY" \\`,
            `  -H 'content-type: application/json' -d '{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}'`,
          ].join('\n'),
        },
        {
          id: 'curlUsage',
          language: 'sh',
          code: `curl -s $BASE/v1/usage -H "x-api-key: $KEY"`,
        },
      ],
    },
  ];
}
