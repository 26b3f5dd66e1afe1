import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  AnthropicUsage,
  applyAnthropicUsage,
  emptyAnthropicUsage,
  openAIErrorForAnthropic,
  parseAnthropicMessage,
  promptTokens,
  thinkingBlockOf,
} from 'src/modules/relay/converters/shared/anthropic-response';
import { Json, isObject } from 'src/modules/relay/converters/shared/openai-params';
import { ResponsesRequestPlan, ToolKind, WEB_SEARCH_TOOL, encodeThinking } from './request';

/**
 * Anthropic Messages answers → OpenAI Response objects. One ResponseBuilder turns Claude's content
 * blocks into output items, both for a non-streamed message (its blocks fed whole) and for a
 * stream (blocks fed as their deltas arrive, each step also emitted as a Responses stream event),
 * so a streamed answer accumulates into exactly the Response the non-streamed one converts to.
 *
 * Blocks → items:
 * - consecutive `text` blocks → one `message` item with one `output_text` part; web search
 *   citations on a block → `url_citation` annotations over that block's span of the text.
 * - consecutive `thinking` / `redacted_thinking` blocks → one `reasoning` item: each thinking text
 *   a `summary_text` part (when `reasoning.summary` asks for summaries), and all the signed blocks
 *   in `encrypted_content` (encodeThinking), which the request converter turns back into them.
 * - `tool_use` → `function_call` (call_id = Claude's tool_use id), `custom_tool_call` (the text of
 *   its `input` property) or `local_shell_call` (an exec action), by the kind of tool it names;
 *   a call of the `json_schema` answer tool → the message text (the JSON).
 * - `server_tool_use` of web search + its `web_search_tool_result` → a `web_search_call` item.
 * An item stays open until a block that belongs to another item starts or the answer ends, so
 * an answer cut short by `max_tokens` leaves its last item `incomplete`.
 */

/** What every response of one request shares. */
export interface ResponsesContext {
  /** `resp_<request id>`. */
  id: string;
  /** Makes item ids unique: `<prefix>_<itemKey>_<output index>`. */
  itemKey: string;
  /** The model the client asked for. */
  model: string;
  /** Unix seconds. */
  createdAt: number;
  plan: Pick<
    ResponsesRequestPlan,
    'tools' | 'namespaced' | 'jsonTool' | 'summaries' | 'searchSources'
  >;
  /** The client's request body, whose settings a Response repeats. */
  request: Json;
}

/** The context of one request's responses; `nowMs` is epoch milliseconds. */
export function responsesContextOf(
  input: ConversionInput,
  plan: ResponsesContext['plan'],
  nowMs: number,
): ResponsesContext {
  return {
    id: `resp_${input.requestId}`,
    itemKey: input.requestId,
    model: input.requestedModel,
    createdAt: Math.floor(nowMs / 1000),
    plan,
    request: input.body,
  };
}

/** A stream event without its sequence number. */
export type ResponsesEvent = Json & { type: string };

interface MessageItem {
  kind: 'message';
  index: number;
  id: string;
  texts: string[];
  /** Length of the text so far, in code points (OpenAI's annotation indices). */
  length: number;
  annotations: Json[];
}

interface ReasoningItem {
  kind: 'reasoning';
  index: number;
  id: string;
  blocks: Json[];
  summaries: string[];
}

interface CallItem {
  kind: 'function_call' | 'custom_tool_call' | 'local_shell_call' | 'web_search_call';
  index: number;
  id: string;
  callId: string;
  name: string;
  /** The input as the block started with it (whole when not streamed). */
  input: unknown;
  fragments: string[];
  /** Argument deltas already emitted (function calls only). */
  streamed: boolean;
  /** The namespace of a function of a `namespace` tool (then `name` is its name inside it). */
  namespace?: string;
  /** Web search: how its result block ended it, if it did. */
  searchStatus?: 'completed' | 'failed';
  sources?: Json[];
}

type OpenItem = MessageItem | ReasoningItem | CallItem;

type BlockRoute =
  | { kind: 'text'; item: MessageItem; start: number; citations: unknown[] }
  | { kind: 'json'; item: MessageItem; input: unknown; fragments: number }
  | { kind: 'thinking'; item: ReasoningItem; parts: string[]; signature: string; summary: number }
  | { kind: 'call'; item: CallItem }
  | { kind: 'other' };

const ID_PREFIX: Record<OpenItem['kind'], string> = {
  message: 'msg',
  reasoning: 'rs',
  function_call: 'fc',
  custom_tool_call: 'ctc',
  local_shell_call: 'lsh',
  web_search_call: 'ws',
};

/** The output item of a call of each kind of client tool. */
const CALL_KINDS: Record<ToolKind, CallItem['kind']> = {
  function: 'function_call',
  custom: 'custom_tool_call',
  local_shell: 'local_shell_call',
};

/** Anthropic stop reasons after which a Response is `incomplete`, with OpenAI's reason. */
const INCOMPLETE: Record<string, string> = {
  max_tokens: 'max_output_tokens',
  model_context_window_exceeded: 'max_output_tokens',
  refusal: 'content_filter',
};

export class ResponseBuilder {
  /** The output items, final once closed; the open one as it stands. */
  readonly output: Json[] = [];
  private open: OpenItem | null = null;
  private readonly routes = new Map<number, BlockRoute>();

  /** `emit` receives each stream event; null builds the Response only. */
  constructor(
    private readonly ctx: ResponsesContext,
    private readonly emit: ((event: ResponsesEvent) => void) | null,
  ) {}

  /** The Response before any output: for `response.created` and `response.in_progress`. */
  started(): Json {
    return responseObject(this.ctx, { status: 'in_progress', output: [], usage: null });
  }

  blockStart(index: number, block: Json): void {
    switch (block.type) {
      case 'text': {
        const item = this.message();
        const citations = Array.isArray(block.citations) ? [...(block.citations as unknown[])] : [];
        this.routes.set(index, { kind: 'text', item, start: item.length, citations });
        if (typeof block.text === 'string') this.text(item, block.text);
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        this.thinkingStart(index, block);
        break;
      case 'tool_use': {
        const name = typeof block.name === 'string' ? block.name : '';
        if (name === this.ctx.plan.jsonTool) {
          this.routes.set(index, {
            kind: 'json',
            item: this.message(),
            input: block.input,
            fragments: 0,
          });
          break;
        }
        const kind = CALL_KINDS[this.ctx.plan.tools.get(name) ?? 'function'];
        this.routes.set(index, { kind: 'call', item: this.call(kind, block) });
        break;
      }
      case 'server_tool_use':
        if (block.name === WEB_SEARCH_TOOL) {
          this.routes.set(index, { kind: 'call', item: this.call('web_search_call', block) });
        } else {
          this.routes.set(index, { kind: 'other' });
        }
        break;
      case 'web_search_tool_result':
        this.searchResult(block);
        this.routes.set(index, { kind: 'other' });
        break;
      default:
        // Blocks of server tools this converter never sends.
        this.routes.set(index, { kind: 'other' });
    }
  }

  blockDelta(index: number, delta: Json): void {
    const route = this.routes.get(index);
    if (route === undefined) return;
    switch (delta.type) {
      case 'text_delta':
        if (route.kind === 'text' && typeof delta.text === 'string')
          this.text(route.item, delta.text);
        break;
      case 'citations_delta':
        if (route.kind === 'text') route.citations.push(delta.citation);
        break;
      case 'thinking_delta':
        if (route.kind === 'thinking' && typeof delta.thinking === 'string') {
          this.thinkingText(route, delta.thinking);
        }
        break;
      case 'signature_delta':
        if (route.kind === 'thinking' && typeof delta.signature === 'string') {
          route.signature += delta.signature;
        }
        break;
      case 'input_json_delta': {
        const fragment = delta.partial_json;
        if (typeof fragment !== 'string' || fragment.length === 0) break;
        if (route.kind === 'json') {
          route.fragments++;
          this.text(route.item, fragment);
        } else if (route.kind === 'call') {
          this.argumentsDelta(route.item, fragment);
        }
        break;
      }
      default:
        // Newer delta types carry nothing a Response can show.
        break;
    }
  }

  blockStop(index: number): void {
    const route = this.routes.get(index);
    if (route === undefined) return;
    switch (route.kind) {
      case 'text':
        this.annotate(route);
        break;
      case 'json':
        // Not streamed: the whole answer is the tool input.
        if (route.fragments === 0) this.text(route.item, JSON.stringify(route.input ?? {}));
        break;
      case 'thinking':
        this.thinkingStop(route);
        break;
      case 'call':
        if (route.item.kind === 'web_search_call') {
          this.event('response.web_search_call.searching', route.item);
        }
        break;
      case 'other':
        break;
    }
  }

  /** Closes the last item and returns the Response for Claude's stop reason and usage. */
  finish(stopReason: unknown, usage: AnthropicUsage): Json {
    const reason = typeof stopReason === 'string' ? INCOMPLETE[stopReason] : undefined;
    this.close(reason === undefined ? 'completed' : 'incomplete');
    return responseObject(this.ctx, {
      status: reason === undefined ? 'completed' : 'incomplete',
      incomplete_details: reason === undefined ? null : { reason },
      output: this.output,
      usage: responsesUsage(usage),
    });
  }

  /** The Response of an answer that failed midway, with the items so far. */
  failed(message: string, anthropicType: string | undefined): Json {
    const mapped = openAIErrorForAnthropic(anthropicType);
    const code =
      mapped.code ?? (mapped.type === 'invalid_request_error' ? 'invalid_prompt' : 'server_error');
    return responseObject(this.ctx, {
      status: 'failed',
      error: { code, message },
      output: this.output,
      usage: null,
    });
  }

  // ---- items -----------------------------------------------------------------------------------

  private event(type: string, item: OpenItem, fields: Json = {}): void {
    this.emit?.({ type, item_id: item.id, output_index: item.index, ...fields });
  }

  /** Opens an item (closing the one before): its index, id and in-progress form. */
  private openItem<T extends OpenItem>(
    state: Omit<T, 'index' | 'id'>,
    initial: (id: string) => Json,
  ): T {
    this.close('completed');
    const index = this.output.length;
    const item = {
      ...state,
      index,
      id: `${ID_PREFIX[state.kind]}_${this.ctx.itemKey}_${index}`,
    } as T;
    const json = initial(item.id);
    this.output.push(json);
    this.open = item;
    this.emit?.({ type: 'response.output_item.added', output_index: index, item: json });
    return item;
  }

  /** Ends the open item: its last events and its final form. */
  private close(status: 'completed' | 'incomplete'): void {
    const item = this.open;
    if (item === null) return;
    this.open = null;
    let json: Json;
    switch (item.kind) {
      case 'message':
        json = this.closeMessage(item, status);
        break;
      case 'reasoning':
        json = reasoningItem(item, this.ctx.plan.summaries);
        break;
      case 'function_call':
      case 'custom_tool_call':
      case 'local_shell_call':
      case 'web_search_call':
        json = this.closeCall(item, status);
    }
    this.output[item.index] = json;
    this.emit?.({ type: 'response.output_item.done', output_index: item.index, item: json });
  }

  /** The open message item, or a new one. */
  private message(): MessageItem {
    if (this.open?.kind === 'message') return this.open;
    const item = this.openItem<MessageItem>(
      { kind: 'message', texts: [], length: 0, annotations: [] },
      (id) => ({ id, type: 'message', status: 'in_progress', role: 'assistant', content: [] }),
    );
    this.event('response.content_part.added', item, { content_index: 0, part: outputText('', []) });
    return item;
  }

  private text(item: MessageItem, text: string): void {
    if (text.length === 0) return;
    item.texts.push(text);
    item.length += codePoints(text);
    this.event('response.output_text.delta', item, { content_index: 0, delta: text, logprobs: [] });
  }

  /** Web search citations of a finished text block → annotations over its span. */
  private annotate(route: Extract<BlockRoute, { kind: 'text' }>): void {
    for (const citation of route.citations) {
      if (!isObject(citation) || citation.type !== 'web_search_result_location') continue;
      const annotation: Json = {
        type: 'url_citation',
        start_index: route.start,
        end_index: route.item.length,
        url: typeof citation.url === 'string' ? citation.url : '',
        title: typeof citation.title === 'string' ? citation.title : '',
      };
      route.item.annotations.push(annotation);
      this.event('response.output_text.annotation.added', route.item, {
        content_index: 0,
        annotation_index: route.item.annotations.length - 1,
        annotation,
      });
    }
  }

  private closeMessage(item: MessageItem, status: string): Json {
    const text = item.texts.join('');
    const part = outputText(text, item.annotations);
    this.event('response.output_text.done', item, { content_index: 0, text, logprobs: [] });
    this.event('response.content_part.done', item, { content_index: 0, part });
    return { id: item.id, type: 'message', status, role: 'assistant', content: [part] };
  }

  private thinkingStart(index: number, block: Json): void {
    const item =
      this.open?.kind === 'reasoning'
        ? this.open
        : this.openItem<ReasoningItem>({ kind: 'reasoning', blocks: [], summaries: [] }, (id) => ({
            id,
            type: 'reasoning',
            summary: [],
          }));
    if (block.type === 'redacted_thinking') {
      const redacted = thinkingBlockOf(block);
      if (redacted !== null) item.blocks.push(redacted);
      this.routes.set(index, { kind: 'other' });
      return;
    }
    const route: BlockRoute = {
      kind: 'thinking',
      item,
      parts: [],
      signature: typeof block.signature === 'string' ? block.signature : '',
      summary: item.summaries.length,
    };
    item.summaries.push('');
    this.routes.set(index, route);
    if (this.ctx.plan.summaries) {
      this.event('response.reasoning_summary_part.added', item, {
        summary_index: route.summary,
        part: { type: 'summary_text', text: '' },
      });
    }
    if (typeof block.thinking === 'string') this.thinkingText(route, block.thinking);
  }

  private thinkingText(route: Extract<BlockRoute, { kind: 'thinking' }>, text: string): void {
    if (text.length === 0) return;
    route.parts.push(text);
    if (this.ctx.plan.summaries) {
      this.event('response.reasoning_summary_text.delta', route.item, {
        summary_index: route.summary,
        delta: text,
      });
    }
  }

  private thinkingStop(route: Extract<BlockRoute, { kind: 'thinking' }>): void {
    const text = route.parts.join('');
    route.item.summaries[route.summary] = text;
    route.item.blocks.push({ type: 'thinking', thinking: text, signature: route.signature });
    if (this.ctx.plan.summaries) {
      this.event('response.reasoning_summary_text.done', route.item, {
        summary_index: route.summary,
        text,
      });
      this.event('response.reasoning_summary_part.done', route.item, {
        summary_index: route.summary,
        part: { type: 'summary_text', text },
      });
    }
  }

  private call(kind: CallItem['kind'], block: Json): CallItem {
    const callId = typeof block.id === 'string' ? block.id : '';
    const claudeName = typeof block.name === 'string' ? block.name : '';
    const inner = kind === 'function_call' ? this.ctx.plan.namespaced.get(claudeName) : undefined;
    const name = inner?.name ?? claudeName;
    const item = this.openItem<CallItem>(
      {
        kind,
        callId,
        name,
        input: block.input,
        fragments: [],
        streamed: false,
        ...(inner !== undefined && { namespace: inner.namespace }),
      },
      (id) => ({
        ...inProgressCall(kind, id, callId, name),
        ...(inner !== undefined && { namespace: inner.namespace }),
      }),
    );
    if (kind === 'web_search_call') this.event('response.web_search_call.in_progress', item);
    return item;
  }

  private argumentsDelta(item: CallItem, fragment: string): void {
    item.fragments.push(fragment);
    if (item.kind !== 'function_call') return;
    item.streamed = true;
    this.event('response.function_call_arguments.delta', item, { delta: fragment });
  }

  /** The call's arguments: streamed fragments, or the input the block started with. */
  private argumentsOf(item: CallItem): string {
    return item.fragments.length > 0 ? item.fragments.join('') : JSON.stringify(item.input ?? {});
  }

  private closeCall(item: CallItem, status: string): Json {
    const args = this.argumentsOf(item);
    switch (item.kind) {
      case 'custom_tool_call': {
        const input = parsedObject(args)?.input;
        const text = typeof input === 'string' ? input : '';
        // Claude streams JSON around the text; it goes out whole once the call is complete.
        if (text.length > 0)
          this.event('response.custom_tool_call_input.delta', item, { delta: text });
        this.event('response.custom_tool_call_input.done', item, { input: text });
        return {
          id: item.id,
          type: 'custom_tool_call',
          call_id: item.callId,
          name: item.name,
          input: text,
        };
      }
      case 'local_shell_call':
        return {
          id: item.id,
          type: 'local_shell_call',
          call_id: item.callId,
          status,
          action: shellAction(parsedObject(args)),
        };
      case 'web_search_call':
        return this.closeSearch(item, args, status);
      case 'function_call':
        if (!item.streamed && args.length > 0) {
          this.event('response.function_call_arguments.delta', item, { delta: args });
        }
        this.event('response.function_call_arguments.done', item, { arguments: args });
        return {
          id: item.id,
          type: 'function_call',
          status,
          arguments: args,
          call_id: item.callId,
          name: item.name,
          ...(item.namespace !== undefined && { namespace: item.namespace }),
        };
    }
  }

  /** A web search result block ends the search that asked for it. */
  private searchResult(block: Json): void {
    const item = this.open;
    if (item?.kind !== 'web_search_call' || item.callId !== block.tool_use_id) return;
    const content = block.content;
    item.searchStatus = Array.isArray(content) ? 'completed' : 'failed';
    if (Array.isArray(content)) {
      item.sources = content
        .filter((result): result is Json => isObject(result) && typeof result.url === 'string')
        .map((result) => ({ type: 'url', url: result.url }));
    }
    this.close('completed');
  }

  private closeSearch(item: CallItem, args: string, status: string): Json {
    const query = parsedObject(args)?.query;
    const action: Json = { type: 'search' };
    if (typeof query === 'string') {
      action.query = query;
      action.queries = [query];
    }
    if (this.ctx.plan.searchSources && item.sources !== undefined) action.sources = item.sources;
    const final = item.searchStatus ?? (status === 'completed' ? 'completed' : 'incomplete');
    if (final === 'completed') this.event('response.web_search_call.completed', item);
    return { id: item.id, type: 'web_search_call', status: final, action };
  }
}

function inProgressCall(kind: CallItem['kind'], id: string, callId: string, name: string): Json {
  switch (kind) {
    case 'function_call':
      return { id, type: kind, status: 'in_progress', arguments: '', call_id: callId, name };
    case 'custom_tool_call':
      return { id, type: kind, call_id: callId, name, input: '' };
    case 'local_shell_call':
      return {
        id,
        type: kind,
        call_id: callId,
        status: 'in_progress',
        action: shellAction(undefined),
      };
    case 'web_search_call':
      return { id, type: kind, status: 'in_progress', action: { type: 'search' } };
  }
}

function outputText(text: string, annotations: Json[]): Json {
  return { type: 'output_text', text, annotations, logprobs: [] };
}

function reasoningItem(item: ReasoningItem, summaries: boolean): Json {
  const json: Json = {
    id: item.id,
    type: 'reasoning',
    summary: summaries ? item.summaries.map((text) => ({ type: 'summary_text', text })) : [],
  };
  if (item.blocks.length > 0) json.encrypted_content = encodeThinking(item.blocks);
  return json;
}

/** The exec action of a local shell call from Claude's tool input (empty when unreadable). */
function shellAction(input: Json | undefined): Json {
  const command = Array.isArray(input?.command)
    ? input.command.filter((part): part is string => typeof part === 'string')
    : [];
  const env = isObject(input?.env) ? input.env : {};
  return {
    type: 'exec',
    command,
    env,
    timeout_ms: typeof input?.timeout_ms === 'number' ? input.timeout_ms : null,
    user: typeof input?.user === 'string' ? input.user : null,
    working_directory:
      typeof input?.working_directory === 'string' ? input.working_directory : null,
  };
}

function parsedObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A high surrogate and the low one after it are one code point.
    if (code < 0xdc00 || code > 0xdfff) count++;
  }
  return count;
}

/**
 * OpenAI's `usage`: input is everything Claude read (uncached, cache writes and cache reads),
 * `cached_tokens` the cache reads; reasoning tokens when Anthropic reports its thinking tokens.
 */
export function responsesUsage(usage: AnthropicUsage): Json {
  const input = promptTokens(usage);
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: usage.cacheReadTokens,
      cache_write_tokens: usage.cacheCreationTokens,
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.thinkingTokens ?? 0 },
    total_tokens: input + usage.outputTokens,
  };
}

/** A Response object: the given state plus the request settings it repeats. */
function responseObject(ctx: ResponsesContext, state: Json): Json {
  const request = ctx.request;
  const reasoning = isObject(request.reasoning) ? request.reasoning : {};
  const text = isObject(request.text) ? request.text : {};
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: request.max_tool_calls ?? null,
    model: ctx.model,
    output: state.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: {
      effort: reasoning.effort ?? null,
      summary: reasoning.summary ?? reasoning.generate_summary ?? null,
    },
    safety_identifier: request.safety_identifier ?? null,
    service_tier: 'default',
    // Nothing is stored, whatever the request asked.
    store: false,
    temperature: request.temperature ?? 1,
    text: { format: text.format ?? { type: 'text' }, verbosity: text.verbosity ?? 'medium' },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_logprobs: request.top_logprobs ?? 0,
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: state.usage,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** A non-streamed Messages response (JSON) → a Response (JSON). */
export function toResponse(providerBody: Buffer, ctx: ResponsesContext): Buffer {
  const message = parseAnthropicMessage(providerBody);
  const builder = new ResponseBuilder(ctx, null);
  message.content.forEach((block, index) => {
    if (!isObject(block)) return;
    builder.blockStart(index, block);
    builder.blockStop(index);
  });
  const usage = emptyAnthropicUsage();
  applyAnthropicUsage(usage, message.usage);
  return Buffer.from(JSON.stringify(builder.finish(message.stop_reason, usage)), 'utf8');
}
