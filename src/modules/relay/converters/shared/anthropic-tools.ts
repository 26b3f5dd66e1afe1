import { Json, fail, given, isObject, quote, requireString } from './openai-params';

/**
 * Anthropic tools, tool choice and structured answers built from OpenAI requests, shared by the
 * Chat Completions and Responses converters.
 */

/** A JSON Schema for a tool input, which Anthropic requires to describe an object. */
export function objectSchema(value: unknown, path: string): Json {
  if (!given(value)) return { type: 'object', properties: {} };
  if (!isObject(value)) fail(path, 'must be a JSON Schema object', 'invalid_type');
  if (value.type === undefined) return { type: 'object', ...value };
  if (value.type !== 'object') {
    fail(
      `${path}.type`,
      `the root of the schema must be of type 'object' (got ${quote(value.type)})`,
      'invalid_value',
    );
  }
  return value;
}

/**
 * An Anthropic tool for an OpenAI function: `fn` holds name, description, parameters and strict,
 * `path` is where it stands in the request.
 */
export function functionTool(fn: Json, path: string): Json {
  const name = requireString(fn.name, `${path}.name`);
  if (name.length === 0) fail(`${path}.name`, 'must not be empty', 'invalid_value');
  const out: Json = { name };
  if (given(fn.description)) out.description = requireString(fn.description, `${path}.description`);
  out.input_schema = objectSchema(fn.parameters, `${path}.parameters`);
  if (fn.strict === true) out.strict = true;
  return out;
}

/** An OpenAI tool choice, read by the converter of its API. */
export type ToolChoiceRequest =
  | { kind: 'unset' }
  | { kind: 'auto' }
  | { kind: 'none' }
  | { kind: 'required' }
  /** `param` is where the name stands, for the error when no tool has it. */
  | { kind: 'tool'; name: string; param: string };

/**
 * Anthropic's `tool_choice` (undefined: leave Anthropic's default). `tools` are the names of the
 * Anthropic tools sent, undefined when none are; `reasoning` is what turned thinking on, if it is
 * on, since Anthropic cannot force tool use while thinking.
 */
export function anthropicToolChoice(
  choice: ToolChoiceRequest,
  tools: readonly string[] | undefined,
  noParallel: boolean,
  reasoning: string | null,
): Json | undefined {
  let out: Json;
  switch (choice.kind) {
    case 'unset':
    case 'auto':
      if (tools === undefined) return undefined;
      if (choice.kind === 'unset' && !noParallel) return undefined;
      out = { type: 'auto' };
      break;
    case 'none':
      return tools !== undefined ? { type: 'none' } : undefined;
    case 'required':
      if (tools === undefined) fail('tool_choice', "'required' needs tools", 'invalid_value');
      forcedWithThinking(reasoning);
      out = { type: 'any' };
      break;
    case 'tool':
      if (tools === undefined || !tools.includes(choice.name)) {
        fail(choice.param, `no tool named ${quote(choice.name)} in tools`, 'invalid_value');
      }
      forcedWithThinking(reasoning);
      out = { type: 'tool', name: choice.name };
      break;
  }
  if (noParallel) out.disable_parallel_tool_use = true;
  return out;
}

function forcedWithThinking(reasoning: string | null): void {
  if (reasoning !== null) {
    fail(
      'tool_choice',
      `Claude models cannot be forced to call a tool with ${reasoning}; use auto`,
      'unsupported_value',
    );
  }
}

/**
 * Base name of the tool that carries a `json_schema` answer. Tool names share one character set,
 * so no name is impossible for a client; a client tool of the same name gets a numbered suffix.
 */
export const JSON_SCHEMA_TOOL = 'switchyard_json_response';

/** What the json_object instruction tells Claude. */
export const JSON_OBJECT_INSTRUCTION =
  'Answer with one valid JSON object and nothing else: no prose before or after it and no ' +
  'Markdown code fences.';

/** The tools, tool choice and system text that carry an OpenAI answer format. */
export interface TextFormatPlan {
  tools: Json[] | undefined;
  toolChoice: Json | undefined;
  /** A system block to add (json_object), or null. */
  instruction: Json | null;
  /** The name of the tool that carries a `json_schema` answer, or null. */
  jsonTool: string | null;
}

/**
 * An OpenAI answer format (`response_format`, `text.format`) on Claude:
 * - `json_schema` → a tool whose input schema is the schema, forced (`any` when the client's own
 *   tools are offered too); its call is turned back into the answer text by the response
 *   converters. Anthropic does not allow forced tool use with thinking: then it is a 400.
 * - `json_object` → a system instruction to answer with one JSON object.
 * - `text` → nothing.
 * `schemaOf` finds the schema spec (name, description, schema, strict) and its path in the format.
 */
export function textFormatPlan(
  format: unknown,
  param: string,
  schemaOf: (format: Json) => [unknown, string],
  reasoning: string | null,
  clientTools: Json[] | undefined,
  toolChoice: Json | undefined,
): TextFormatPlan {
  const plan: TextFormatPlan = {
    tools: clientTools,
    toolChoice,
    instruction: null,
    jsonTool: null,
  };
  if (!given(format) || (isObject(format) && format.type === 'text')) return plan;
  if (isObject(format) && format.type === 'json_object') {
    plan.instruction = { type: 'text', text: JSON_OBJECT_INSTRUCTION };
    return plan;
  }
  if (!isObject(format) || format.type !== 'json_schema') {
    return fail(`${param}.type`, `unsupported response format ${quote(format)}`, 'invalid_value');
  }
  if (reasoning !== null) {
    fail(
      param,
      `json_schema cannot be combined with ${reasoning} on Claude models (structured answers ` +
        'use forced tool use, which extended thinking does not allow)',
      'unsupported_value',
    );
  }
  const [spec, specPath] = schemaOf(format);
  const jsonTool = uniqueToolName(clientTools ?? []);
  plan.jsonTool = jsonTool;
  plan.tools = [...(clientTools ?? []), jsonSchemaTool(spec, specPath, jsonTool)];
  plan.toolChoice = jsonSchemaToolChoice(toolChoice, clientTools !== undefined, jsonTool);
  return plan;
}

function uniqueToolName(tools: Json[]): string {
  const names = new Set(tools.map((tool) => tool.name));
  let name = JSON_SCHEMA_TOOL;
  for (let i = 2; names.has(name); i++) name = `${JSON_SCHEMA_TOOL}_${i}`;
  return name;
}

function jsonSchemaTool(spec: unknown, path: string, name: string): Json {
  if (!isObject(spec)) fail(path, 'must be an object', 'invalid_type');
  const schemaName = requireString(spec.name, `${path}.name`);
  const what = given(spec.description)
    ? ` (${requireString(spec.description, `${path}.description`)})`
    : '';
  const tool: Json = {
    name,
    description:
      `Give your final answer to the user by calling this tool. Its input is the answer: a JSON ` +
      `value following the "${schemaName}" schema${what}.`,
    input_schema: objectSchema(spec.schema, `${path}.schema`),
  };
  if (spec.strict === true) tool.strict = true;
  return tool;
}

/**
 * The tool choice that makes Claude answer through the JSON tool. With client tools in play the
 * model must still be free to call them, so it is made to call some tool (`any`); a client's
 * named tool stays forced; otherwise the JSON tool itself is forced.
 */
function jsonSchemaToolChoice(
  choice: Json | undefined,
  clientTools: boolean,
  jsonTool: string,
): Json {
  if (choice?.type === 'tool') return choice;
  const out: Json =
    clientTools && choice?.type !== 'none' ? { type: 'any' } : { type: 'tool', name: jsonTool };
  if (choice?.disable_parallel_tool_use === true) out.disable_parallel_tool_use = true;
  return out;
}
