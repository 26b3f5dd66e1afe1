import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import {
  openAICompatibleHeaders,
  resolveQuirks,
  type OpenAICompatibleCredentials,
} from 'src/modules/accounts/types/openai-compatible';
import type { ChatUpstreamOptions, StreamConversion } from 'src/modules/relay/converters/converter';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';
import type {
  PassthroughAdjustment,
  ProviderEndpoint,
  ProviderRequestInput,
} from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { chatStreamUsagePassthrough } from '../openai/chat-stream-usage';
import { OpenAIWireProvider } from '../shared/openai-wire.provider';
import { credentialsOf, jsonPost } from '../shared/upstream-request';

type Json = Record<string, unknown>;

/** The server options of an openai-compatible account, as converters read them. */
export function chatUpstreamOptions(credentials: OpenAICompatibleCredentials): ChatUpstreamOptions {
  return { ...resolveQuirks(credentials), extraBody: credentials.extraBody ?? null };
}

/** A stream passed on as it comes. */
const UNCHANGED: () => StreamConversion = () => ({
  push: (chunk: Buffer) => chunk,
  end: () => Buffer.alloc(0),
});

function refuse(param: string, reason: string): never {
  throw new OpenAIRequestException(param, `${param}: ${reason}`, 'unsupported_parameter');
}

/** Whether any message carries an image part. */
function hasImage(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  return messages.some(
    (message: unknown) =>
      typeof message === 'object' &&
      message !== null &&
      Array.isArray((message as Json).content) &&
      ((message as Json).content as unknown[]).some(
        (part) => typeof part === 'object' && part !== null && (part as Json).type === 'image_url',
      ),
  );
}

/**
 * A Chat Completions request from an OpenAI client, fitted to the account's server: refused
 * (400) for what it cannot take (tools, images), its output cap lowered to the server's most,
 * `stream_options` left out for a server that refuses it, the extra body fields merged in. Null
 * when nothing changes (the client's bytes then go as they are).
 */
export function fitChatRequest(body: Json, options: ChatUpstreamOptions): Json | null {
  let out: Json | null = null;
  const set = (key: string, value: unknown): void => {
    out ??= { ...body };
    if (value === undefined) delete out[key];
    else out[key] = value;
  };
  if (!options.tools && Array.isArray(body.tools) && body.tools.length > 0) {
    refuse('tools', "this account's server does not take tools");
  }
  if (!options.images && hasImage(body.messages)) {
    refuse('messages', "this account's server does not read images");
  }
  const max = options.maxOutputTokens;
  if (max !== null) {
    for (const field of ['max_tokens', 'max_completion_tokens']) {
      const value = body[field];
      if (typeof value === 'number' && value > max) set(field, max);
    }
  }
  if (!options.streamOptions && body.stream_options !== undefined) set('stream_options', undefined);
  for (const [key, value] of Object.entries(options.extraBody ?? {})) set(key, value);
  return out;
}

/**
 * Any server that speaks Chat Completions, for `openai-compatible` accounts: the account's base
 * URL plus `/chat/completions`, its key (if any) as a bearer, its extra headers and body
 * fields. OpenAI Chat Completions clients pass through (adjusted only for the account's
 * quirks); Anthropic clients are converted (converters/anthropic-to-openai-chat), with the
 * quirks handed to the converter.
 */
export class OpenAICompatibleProvider extends OpenAIWireProvider {
  readonly id = 'openai-compatible' as const;
  readonly formats = ['openai-chat'] as const;

  endpoint(): ProviderEndpoint {
    return { path: '/chat/completions', query: '' };
  }

  buildRequest(account: RoutableAccount, input: ProviderRequestInput): Promise<UpstreamRequest> {
    if (account.credentials.type !== 'openai-compatible') {
      return Promise.reject(
        new Error(`openai-compatible provider given a ${account.credentials.type} account`),
      );
    }
    return Promise.resolve(
      jsonPost(account, input, this.requestHeaders, openAICompatibleHeaders(account.credentials)),
    );
  }

  upstreamOptions(account: RoutableAccount): ChatUpstreamOptions {
    return chatUpstreamOptions(credentialsOf(account, 'openai-compatible', 'openai-compatible'));
  }

  /**
   * An OpenAI client's request fitted to the server (fitChatRequest); a stream asks for its usage
   * when the server takes `stream_options` (what that adds is taken out again, as for OpenAI).
   */
  passthrough(
    format: WireFormat,
    body: Json,
    stream: boolean,
    account: RoutableAccount,
  ): PassthroughAdjustment | null {
    const options = this.upstreamOptions(account);
    const fitted = fitChatRequest(body, options);
    const usage = options.streamOptions
      ? chatStreamUsagePassthrough(format, fitted ?? body, stream)
      : null;
    if (usage !== null) return usage;
    if (fitted === null) return null;
    return { body: fitted, stream: UNCHANGED };
  }
}
