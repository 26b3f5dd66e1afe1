/**
 * One scripted OpenAI Responses answer, rendered both ways the Responses API returns it: the
 * non-streamed Response object and the event stream of the same answer (response.created,
 * response.in_progress, each output item with its added / part / delta / done events, then
 * response.completed, .incomplete or .failed), so specs can check that a stream and a body that
 * say the same thing are converted to the same thing. Event and field names follow
 * openai-node's `resources/responses/responses.d.ts`.
 */

type Json = Record<string, unknown>;

export type ResponsesScriptItem =
  | { type: 'message'; text: string; id?: string }
  | { type: 'refusal'; refusal: string; id?: string }
  | { type: 'reasoning'; summary: string[]; encrypted?: string; id?: string }
  | { type: 'function_call'; callId: string; name: string; arguments: string; id?: string };

export interface ResponsesScriptUsage {
  input_tokens: number;
  output_tokens: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

export interface ResponsesScript {
  output: ResponsesScriptItem[];
  status?: 'completed' | 'incomplete' | 'failed';
  /** `incomplete_details.reason` when the status is incomplete. */
  incompleteReason?: string;
  /** `error` when the status is failed. */
  error?: { code: string; message: string };
  /** null: the upstream reports no usage. */
  usage?: ResponsesScriptUsage | null;
  model?: string;
  /** Characters per delta. */
  deltaSize?: number;
  /** The terminal event's Response has an empty `output` (the items only in output_item.done). */
  emptyTerminalOutput?: boolean;
}

const DEFAULT_USAGE: ResponsesScriptUsage = { input_tokens: 10, output_tokens: 5 };

function fullUsage(usage: ResponsesScriptUsage): Json {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function itemId(item: ResponsesScriptItem, index: number): string {
  if (item.id !== undefined) return item.id;
  const prefix = { message: 'msg', refusal: 'msg', reasoning: 'rs', function_call: 'fc' }[
    item.type
  ];
  return `${prefix}_${index}`;
}

/** An output item as the finished Response (and `response.output_item.done`) carries it. */
function doneItem(item: ResponsesScriptItem, index: number): Json {
  const id = itemId(item, index);
  switch (item.type) {
    case 'message':
      return {
        id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: item.text, annotations: [], logprobs: [] }],
      };
    case 'refusal':
      return {
        id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal: item.refusal }],
      };
    case 'reasoning': {
      const out: Json = {
        id,
        type: 'reasoning',
        summary: item.summary.map((text) => ({ type: 'summary_text', text })),
      };
      if (item.encrypted !== undefined) out.encrypted_content = item.encrypted;
      return out;
    }
    case 'function_call':
      return {
        id,
        type: 'function_call',
        status: 'completed',
        call_id: item.callId,
        name: item.name,
        arguments: item.arguments,
      };
  }
}

function baseResponse(script: ResponsesScript): Json {
  return {
    id: 'resp_scripted',
    object: 'response',
    created_at: 1_700_000_000,
    model: script.model ?? 'gpt-5-codex',
    instructions: null,
    parallel_tool_calls: true,
    temperature: null,
    top_p: null,
    tool_choice: 'auto',
    tools: [],
    metadata: {},
    error: null,
    incomplete_details: null,
  };
}

/** The non-streamed Response of a script. */
export function responsesObject(script: ResponsesScript): Json {
  const status = script.status ?? 'completed';
  const response: Json = {
    ...baseResponse(script),
    status,
    output: script.output.map(doneItem),
    usage: script.usage === null ? null : fullUsage(script.usage ?? DEFAULT_USAGE),
  };
  if (status === 'incomplete') {
    response.incomplete_details = { reason: script.incompleteReason ?? 'max_output_tokens' };
  }
  if (status === 'failed') {
    response.error = script.error ?? { code: 'server_error', message: 'The model failed.' };
  }
  return response;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  // By code point, so a delta never splits a surrogate pair (the API's deltas are whole tokens).
  const chars = Array.from(text);
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}

/** The event payloads of a script's stream, in order, without sequence numbers. */
export function responsesStreamEvents(script: ResponsesScript): Json[] {
  const size = script.deltaSize ?? 5;
  const events: Json[] = [];
  const inProgress = { ...baseResponse(script), status: 'in_progress', output: [], usage: null };
  events.push({ type: 'response.created', response: inProgress });
  events.push({ type: 'response.in_progress', response: inProgress });
  script.output.forEach((item, output_index) => {
    const id = itemId(item, output_index);
    const done = doneItem(item, output_index);
    switch (item.type) {
      case 'message':
      case 'refusal': {
        const refusal = item.type === 'refusal';
        events.push({
          type: 'response.output_item.added',
          output_index,
          item: { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
        });
        const part = refusal
          ? { type: 'refusal', refusal: '' }
          : { type: 'output_text', text: '', annotations: [] };
        const at = { item_id: id, output_index, content_index: 0 };
        events.push({ type: 'response.content_part.added', ...at, part });
        const text = refusal ? item.refusal : item.text;
        for (const delta of pieces(text, size)) {
          events.push(
            refusal
              ? { type: 'response.refusal.delta', ...at, delta }
              : { type: 'response.output_text.delta', ...at, delta, logprobs: [] },
          );
        }
        events.push(
          refusal
            ? { type: 'response.refusal.done', ...at, refusal: text }
            : { type: 'response.output_text.done', ...at, text, logprobs: [] },
        );
        events.push({
          type: 'response.content_part.done',
          ...at,
          part: (done.content as Json[])[0],
        });
        break;
      }
      case 'reasoning':
        events.push({
          type: 'response.output_item.added',
          output_index,
          item: { id, type: 'reasoning', summary: [] },
        });
        item.summary.forEach((text, summary_index) => {
          const at = { item_id: id, output_index, summary_index };
          events.push({
            type: 'response.reasoning_summary_part.added',
            ...at,
            part: { type: 'summary_text', text: '' },
          });
          for (const delta of pieces(text, size)) {
            events.push({ type: 'response.reasoning_summary_text.delta', ...at, delta });
          }
          events.push({ type: 'response.reasoning_summary_text.done', ...at, text });
          events.push({
            type: 'response.reasoning_summary_part.done',
            ...at,
            part: { type: 'summary_text', text },
          });
        });
        break;
      case 'function_call':
        events.push({
          type: 'response.output_item.added',
          output_index,
          item: { ...done, status: 'in_progress', arguments: '' },
        });
        for (const delta of pieces(item.arguments, size)) {
          events.push({
            type: 'response.function_call_arguments.delta',
            item_id: id,
            output_index,
            delta,
          });
        }
        events.push({
          type: 'response.function_call_arguments.done',
          item_id: id,
          output_index,
          arguments: item.arguments,
        });
        break;
    }
    events.push({ type: 'response.output_item.done', output_index, item: done });
  });
  const final = responsesObject(script);
  if (script.emptyTerminalOutput === true) final.output = [];
  const status = script.status ?? 'completed';
  events.push({ type: `response.${status}`, response: final });
  return events;
}

/**
 * SSE bytes of event payloads: `event: <type>` and `data: <json>` (with sequence numbers, as the
 * API sends them); `eventLines: false` leaves the `event:` lines out, as some upstreams do.
 */
export function responsesSse(events: Json[], options: { eventLines?: boolean } = {}): Buffer {
  const text = events
    .map((event, sequence_number) => {
      const data = JSON.stringify({ ...event, sequence_number });
      return options.eventLines === false
        ? `data: ${data}\n\n`
        : `event: ${String(event.type)}\ndata: ${data}\n\n`;
    })
    .join('');
  return Buffer.from(text, 'utf8');
}

/** The SSE bytes of a script's stream. */
export function responsesStream(script: ResponsesScript): Buffer {
  return responsesSse(responsesStreamEvents(script));
}
