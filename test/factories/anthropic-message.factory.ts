/**
 * One scripted Claude answer, rendered both ways the Messages API returns it: a non-streamed
 * `Message` and the SSE stream of the same answer (message_start, blocks with their deltas, a
 * ping, message_delta, message_stop), so specs can check that a stream and a body that say the
 * same thing are converted to the same thing.
 */

type Json = Record<string, unknown>;

export type ScriptBlock =
  | { type: 'text'; text: string; citations?: Json[] }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id: string; name: string; input: Json }
  | { type: 'server_tool_use'; id: string; name: string; input: Json }
  | { type: 'web_search_tool_result'; tool_use_id: string; content: Json[] | Json };

export interface ScriptUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  output_tokens_details?: { thinking_tokens: number };
}

export interface AnthropicScript {
  content: ScriptBlock[];
  stopReason?: string;
  usage?: ScriptUsage;
  model?: string;
  /** Characters per text, thinking or partial_json delta. */
  deltaSize?: number;
  /** Newer API versions repeat input and cache counts in message_delta, cumulatively. */
  cumulativeDeltaUsage?: boolean;
}

const DEFAULT_USAGE: ScriptUsage = { input_tokens: 10, output_tokens: 5 };

function fullUsage(usage: ScriptUsage): Json {
  return {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    output_tokens: usage.output_tokens,
    ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
  };
}

/** The non-streamed `Message` of a script. */
export function anthropicMessage(script: AnthropicScript): Json {
  return {
    id: 'msg_01ScriptedAnswer',
    type: 'message',
    role: 'assistant',
    model: script.model ?? 'claude-sonnet-4-5-20250929',
    content: script.content.map((block) =>
      block.type === 'text' ? { ...block, citations: block.citations ?? null } : { ...block },
    ),
    stop_reason: script.stopReason ?? 'end_turn',
    stop_sequence: null,
    usage: fullUsage(script.usage ?? DEFAULT_USAGE),
  };
}

/** Splits by code points, so a delta never ends inside a surrogate pair. */
function pieces(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** The SSE events of a script, as [event name, payload] pairs. */
export function anthropicStreamEvents(script: AnthropicScript): [string, Json][] {
  const size = script.deltaSize ?? 4;
  const usage = script.usage ?? DEFAULT_USAGE;
  const events: [string, Json][] = [];
  const start = anthropicMessage(script);
  events.push([
    'message_start',
    {
      type: 'message_start',
      message: {
        ...start,
        content: [],
        stop_reason: null,
        usage: { ...fullUsage(usage), output_tokens: 1 },
      },
    },
  ]);
  script.content.forEach((block, index) => {
    const delta = (payload: Json): void => {
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: payload }]);
    };
    switch (block.type) {
      case 'text':
        events.push([
          'content_block_start',
          { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
        ]);
        for (const citation of block.citations ?? []) delta({ type: 'citations_delta', citation });
        for (const text of pieces(block.text, size)) delta({ type: 'text_delta', text });
        break;
      case 'thinking':
        events.push([
          'content_block_start',
          {
            type: 'content_block_start',
            index,
            content_block: { type: 'thinking', thinking: '', signature: '' },
          },
        ]);
        for (const thinking of pieces(block.thinking, size)) {
          delta({ type: 'thinking_delta', thinking });
        }
        delta({ type: 'signature_delta', signature: block.signature });
        break;
      case 'redacted_thinking':
      case 'web_search_tool_result':
        events.push([
          'content_block_start',
          { type: 'content_block_start', index, content_block: { ...block } },
        ]);
        break;
      case 'tool_use':
      case 'server_tool_use':
        events.push([
          'content_block_start',
          {
            type: 'content_block_start',
            index,
            content_block: { type: block.type, id: block.id, name: block.name, input: {} },
          },
        ]);
        // The API opens every tool input with an empty fragment.
        delta({ type: 'input_json_delta', partial_json: '' });
        for (const partial of pieces(JSON.stringify(block.input), size)) {
          delta({ type: 'input_json_delta', partial_json: partial });
        }
        break;
    }
    if (index === 0) events.push(['ping', { type: 'ping' }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  const deltaUsage: Json = script.cumulativeDeltaUsage
    ? fullUsage(usage)
    : { output_tokens: usage.output_tokens };
  if (!script.cumulativeDeltaUsage && usage.output_tokens_details) {
    deltaUsage.output_tokens_details = usage.output_tokens_details;
  }
  events.push([
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: script.stopReason ?? 'end_turn', stop_sequence: null },
      usage: deltaUsage,
    },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}

/** Serialises events the way the Messages API streams them. */
export function sseBytes(events: [string, unknown][]): Buffer {
  return Buffer.from(
    events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join(''),
    'utf8',
  );
}

/** The SSE bytes of a script. */
export function anthropicStream(script: AnthropicScript): Buffer {
  return sseBytes(anthropicStreamEvents(script));
}

/** Claude says a word, then calls one tool twice in parallel; part of the prompt was cached. */
export const parallelToolCalls: AnthropicScript = {
  content: [
    { type: 'text', text: 'Checking both cities…' },
    { type: 'tool_use', id: 'toolu_01A', name: 'weather', input: { city: 'Paris' } },
    { type: 'tool_use', id: 'toolu_01B', name: 'weather', input: { city: 'Zürich', days: [1, 2] } },
  ],
  stopReason: 'tool_use',
  usage: { input_tokens: 40, cache_read_input_tokens: 400, output_tokens: 60 },
  deltaSize: 3,
};
