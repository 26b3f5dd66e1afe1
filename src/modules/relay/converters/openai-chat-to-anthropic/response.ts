import { chatCompletionBody } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import {
  AnthropicUsage,
  applyAnthropicUsage,
  emptyAnthropicUsage,
  openAIErrorBodyFromAnthropic,
  parseAnthropicMessage,
  promptTokens,
  thinkingBlockOf,
} from 'src/modules/relay/converters/shared/anthropic-response';
import { Json, isObject } from 'src/modules/relay/converters/shared/openai-params';

/**
 * Anthropic Messages responses → OpenAI `chat.completion` objects, plus the pieces the stream
 * converter shares: usage, finish reasons and errors.
 *
 * Thinking comes back as `reasoning_content` (the field DeepSeek, LiteLLM and OpenRouter-style
 * clients read) and, with signatures, as `thinking_blocks` (LiteLLM's convention), which clients
 * send back on the assistant message so tool use with thinking continues.
 */

export { applyAnthropicUsage, emptyAnthropicUsage };

/** Upstream error bodies in OpenAI's shape (see openAIErrorBodyFromAnthropic). */
export const chatErrorBody = openAIErrorBodyFromAnthropic;

/** What every response of one request shares. */
export interface ChatResponseContext {
  /** `chatcmpl-<request id>`. */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** The tool that carries a `json_schema` answer (its call becomes the content), or null. */
  jsonTool: string | null;
}

/**
 * OpenAI's `usage`: the prompt is everything Claude read (uncached, cache writes and cache
 * reads), `cached_tokens` the cache reads.
 */
export function chatUsage(usage: AnthropicUsage): Json {
  const prompt = promptTokens(usage);
  const out: Json = {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cacheReadTokens,
      cache_write_tokens: usage.cacheCreationTokens,
    },
  };
  if (usage.thinkingTokens !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.thinkingTokens };
  }
  return out;
}

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`. A `tool_use` stop only means `tool_calls`
 * when the client has tool calls to run: a call of the json_schema tool is the answer itself.
 */
export function finishReason(stopReason: unknown, clientToolCalls: boolean): string {
  switch (stopReason) {
    case 'tool_use':
      return clientToolCalls ? 'tool_calls' : 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn (a finished turn for a Chat Completions client)
      return 'stop';
  }
}

/** A non-streamed Messages response (JSON) → a `chat.completion` (JSON). */
export function toChatCompletion(providerBody: Buffer, ctx: ChatResponseContext): Buffer {
  const message = parseAnthropicMessage(providerBody);

  const texts: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: Json[] = [];
  const toolCalls: Json[] = [];
  for (const block of message.content) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') texts.push(block.text);
        break;
      case 'thinking':
      case 'redacted_thinking': {
        const out = thinkingBlockOf(block);
        if (out !== null) thinkingBlocks.push(out);
        if (typeof block.thinking === 'string') reasoning.push(block.thinking);
        break;
      }
      case 'tool_use': {
        const args = JSON.stringify(block.input ?? {});
        if (block.name === ctx.jsonTool) {
          texts.push(args);
        } else {
          toolCalls.push({
            id: block.id,
            type: 'function',
            function: { name: block.name, arguments: args },
          });
        }
        break;
      }
      default:
        // Server tool blocks only answer server tools, which this converter never sends.
        break;
    }
  }

  const chatMessage: Json = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '',
    refusal: null,
  };
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
  if (thinkingBlocks.length > 0) {
    chatMessage.reasoning_content = reasoning.join('');
    chatMessage.thinking_blocks = thinkingBlocks;
  }
  const usage = emptyAnthropicUsage();
  applyAnthropicUsage(usage, message.usage);

  return chatCompletionBody(
    ctx,
    chatMessage,
    finishReason(message.stop_reason, toolCalls.length > 0),
    chatUsage(usage),
  );
}
