import { Injectable } from '@nestjs/common';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { WireFormat } from 'src/modules/relay/wire-format';
import type { Converter } from './converter';
import { OpenAIChatToAnthropicConverter } from './openai-chat-to-anthropic/openai-chat-to-anthropic.converter';

/** One line per (client format, provider format) pair that differs. */
const CONVERTERS: readonly Converter[] = [new OpenAIChatToAnthropicConverter()];

/** The converter between a client's wire format and a provider's; null when they match. */
@Injectable()
export class ConverterRegistry {
  private readonly byPair = new Map<string, Converter>(
    CONVERTERS.map((c) => [`${c.from}>${c.to}`, c]),
  );

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
