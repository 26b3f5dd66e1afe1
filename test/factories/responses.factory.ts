import {
  LOCAL_SHELL_TOOL,
  ToolKind,
} from 'src/modules/relay/converters/openai-responses-to-anthropic/request';
import type { ResponsesContext } from 'src/modules/relay/converters/openai-responses-to-anthropic/response';
import { AnthropicScript, parallelToolCalls } from './anthropic-message.factory';

/**
 * Fixtures for the OpenAI Responses ⇄ Anthropic Messages converter specs: what Codex CLI sends
 * and answers Claude gives.
 */

/**
 * The kinds of tools Codex CLI sends (codex-rs/tools/src/tool_spec.rs, responses_api.rs): a
 * function, the freeform `apply_patch` tool with its Lark grammar, `local_shell`, and web search
 * in its default cached mode.
 */
export const codexTools = [
  {
    type: 'function',
    name: 'shell',
    description: 'Runs a shell command.',
    strict: false,
    parameters: {
      type: 'object',
      properties: { command: { type: 'array', items: { type: 'string' } } },
      required: ['command'],
      additionalProperties: false,
    },
  },
  {
    type: 'custom',
    name: 'apply_patch',
    description: 'Use the `apply_patch` tool to edit files.',
    format: { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch' },
  },
  { type: 'local_shell' },
  { type: 'web_search', external_web_access: false },
];

/** Claude thinks, says a word, then calls one tool twice in parallel. */
export const thinkingToolCalls: AnthropicScript = {
  ...parallelToolCalls,
  content: [
    {
      type: 'thinking',
      thinking: 'The user wants two cities; call the tool twice.',
      signature: 'EqoBSIG',
    },
    ...parallelToolCalls.content,
  ],
};

/** Claude searches the web, then answers citing one result. */
export const webSearchAnswer: AnthropicScript = {
  content: [
    { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'news' } },
    {
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: [{ type: 'web_search_result', url: 'https://n.example', title: 'N' }],
    },
    {
      type: 'text',
      text: 'Big news today',
      citations: [{ type: 'web_search_result_location', url: 'https://n.example', title: 'N' }],
    },
  ],
};

/** A response context whose plan knows a function, a custom and the local shell tool. */
export function responsesContext(
  plan: Partial<ResponsesContext['plan']> = {},
  request: Record<string, unknown> = {},
): ResponsesContext {
  return {
    id: 'resp_req-1',
    itemKey: 'req-1',
    model: 'gpt-5',
    createdAt: 1_700_000_000,
    plan: {
      tools: new Map<string, ToolKind>([
        ['weather', 'function'],
        ['apply_patch', 'custom'],
        [LOCAL_SHELL_TOOL, 'local_shell'],
      ]),
      jsonTool: 'switchyard_json_response',
      summaries: true,
      searchSources: true,
      ...plan,
      namespaced: plan.namespaced ?? new Map(),
    },
    request: { model: 'gpt-5', input: 'hi', ...request },
  };
}
