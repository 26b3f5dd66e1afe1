import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import type { WireFormat } from 'src/modules/relay/wire-format';
import type { Turn } from './anthropic-content';
import { openAIErrorBodyFromAnthropic } from './anthropic-response';
import {
  OutputCap,
  ThinkingPlan,
  endUser,
  nucleus,
  resolveLimits,
  samplingTemperature,
  thinkingActive,
} from './anthropic-sampling';
import { ToolChoiceRequest, anthropicToolChoice, textFormatPlan } from './anthropic-tools';
import { Json, fail } from './openai-params';

/** Refuses operations other than generating (`api` names the client's API in the message). */
export function requireGenerate(input: ConversionInput, api: string): void {
  if (input.operation !== 'generate') {
    fail(null, `${api} has no token-counting operation`, 'unsupported_value');
  }
}

/** What an OpenAI converter has read from its request, for the Messages request. */
export interface MessagesRequestParts {
  /** What turns thinking on in the client's API, as error messages name it. */
  reasoningParam: string;
  system: Json[];
  turns: Turn[];
  /** The client's tools as Anthropic tools; undefined when it sent none. */
  tools: Json[] | undefined;
  toolChoice: ToolChoiceRequest;
  thinking: ThinkingPlan;
  /** The client's output cap, and `max_tokens` when it set none (given the thinking budget). */
  cap: OutputCap | null;
  uncapped: (budget: number) => number;
  /** The answer format, its parameter and where its json_schema spec stands in it. */
  format: unknown;
  formatParam: string;
  schemaOf: (format: Json) => [unknown, string];
  stopSequences?: string[];
}

/**
 * The Anthropic Messages request from what an OpenAI converter read, plus the sampling fields
 * both OpenAI APIs share (`temperature`, `top_p`, `parallel_tool_calls`, `safety_identifier` /
 * `user`), read from the client's body. Returns the body and the name of the json_schema answer
 * tool, if the format asked for one.
 */
export function anthropicRequest(
  input: ConversionInput,
  parts: MessagesRequestParts,
): { body: Json; jsonTool: string | null } {
  const body = input.body;
  const reasoning = thinkingActive(parts.thinking) ? parts.reasoningParam : null;
  const limits = resolveLimits(parts.cap, parts.thinking, parts.uncapped);
  const format = textFormatPlan(
    parts.format,
    parts.formatParam,
    parts.schemaOf,
    reasoning,
    parts.tools,
    anthropicToolChoice(
      parts.toolChoice,
      parts.tools?.map((tool) => String(tool.name)),
      body.parallel_tool_calls === false,
      reasoning,
    ),
  );
  const system = format.instruction === null ? parts.system : [...parts.system, format.instruction];

  const out: Json = { model: input.upstreamModel, max_tokens: limits.maxTokens };
  if (system.length > 0) out.system = system;
  out.messages = parts.turns;
  if (format.tools !== undefined && format.tools.length > 0) out.tools = format.tools;
  if (format.toolChoice !== undefined) out.tool_choice = format.toolChoice;
  if (parts.stopSequences !== undefined) out.stop_sequences = parts.stopSequences;
  const temperature = samplingTemperature(body.temperature, reasoning);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = nucleus(body.top_p, reasoning);
  if (topP !== undefined) out.top_p = topP;
  if (limits.thinking !== undefined) out.thinking = limits.thinking;
  const userId = endUser(body);
  if (userId !== undefined) out.metadata = { user_id: userId };
  if (input.stream) out.stream = true;
  return { body: out, jsonTool: format.jsonTool };
}

/**
 * A Conversion to the Messages API: the request bytes, and the answers converted with a fresh
 * context each time (`context` is called per response or stream). Upstream errors keep their
 * status and become OpenAI error bodies.
 */
export function anthropicConversion<C>(
  body: Json,
  context: () => C,
  response: (providerBody: Buffer, context: C) => Buffer,
  stream: (context: C) => StreamConversion,
): Conversion {
  return {
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    response: (providerBody: Buffer): Buffer => response(providerBody, context()),
    stream: (): StreamConversion => stream(context()),
    error: (status: number, providerBody: Buffer): Buffer =>
      openAIErrorBodyFromAnthropic(status, providerBody),
  };
}

/** A converter from one of OpenAI's APIs to the Messages API. */
export abstract class OpenAIToAnthropicConverter implements Converter {
  abstract readonly from: WireFormat;
  readonly to = 'anthropic-messages' as const;

  /** `now` returns epoch milliseconds, for the creation times answers carry; tests pin it. */
  constructor(protected readonly now: () => number = Date.now) {}

  abstract convert(input: ConversionInput): Conversion;
}
