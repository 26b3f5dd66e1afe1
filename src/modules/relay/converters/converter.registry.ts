import { Injectable } from '@nestjs/common';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { AnthropicToGeminiConverter } from './anthropic-to-gemini/anthropic-to-gemini.converter';
import { AnthropicToOpenAIChatConverter } from './anthropic-to-openai-chat/anthropic-to-openai-chat.converter';
import type { Converter } from './converter';
import { OpenAIChatToGeminiConverter } from './openai-chat-to-gemini/openai-chat-to-gemini.converter';
import { CodeAssistToGeminiConverter } from './code-assist-to-gemini/code-assist-to-gemini.converter';
import { GeminiToCodeAssistConverter } from './gemini-to-code-assist/gemini-to-code-assist.converter';
import { OpenAIChatToAnthropicConverter } from './openai-chat-to-anthropic/openai-chat-to-anthropic.converter';
import { OpenAIChatToOpenAIResponsesConverter } from './openai-chat-to-openai-responses/openai-chat-to-openai-responses.converter';
import { OpenAIResponsesToAnthropicConverter } from './openai-responses-to-anthropic/openai-responses-to-anthropic.converter';

/** One line per (client format, provider format) pair that differs. */
const CONVERTERS: readonly Converter[] = [
  new OpenAIChatToAnthropicConverter(),
  new OpenAIResponsesToAnthropicConverter(),
  new OpenAIChatToOpenAIResponsesConverter(),
  new OpenAIChatToGeminiConverter(),
  new AnthropicToGeminiConverter(),
  new GeminiToCodeAssistConverter(),
  new CodeAssistToGeminiConverter(),
  new AnthropicToOpenAIChatConverter(),
];

/** How a client's request reaches a provider: in which of its formats, through which converter. */
export interface FormatPlan {
  format: WireFormat;
  /** null: the provider speaks the client's format (bytes pass through). */
  converter: Converter | null;
}

/** The converter between a client's wire format and a provider's; null when they match. */
@Injectable()
export class ConverterRegistry {
  private readonly byPair = new Map<string, Converter>(
    CONVERTERS.map((c) => [`${c.from}>${c.to}`, c]),
  );

  /**
   * The provider format a client's request goes in: the client's own when the provider speaks it,
   * else the first of the provider's formats (preferred first) a converter reaches. Throws when
   * none does.
   */
  plan(from: WireFormat, formats: readonly WireFormat[]): FormatPlan {
    if (formats.includes(from)) return { format: from, converter: null };
    for (const to of formats) {
      const converter = this.byPair.get(`${from}>${to}`);
      if (converter !== undefined) return { format: to, converter };
    }
    return { format: formats[0], converter: this.between(from, formats[0]) };
  }

  /** null: identity (bytes pass through). Throws when no converter joins the two formats. */
  between(from: WireFormat, to: WireFormat): Converter | null {
    if (from === to) return null;
    const converter = this.byPair.get(`${from}>${to}`);
    if (converter === undefined) {
      throw new RelayException(
        RelayExceptionCode.UNSUPPORTED_PARAMETER,
        `requests in the ${from} format cannot be served by ${to} accounts yet`,
        null,
        'model',
      );
    }
    return converter;
  }
}
