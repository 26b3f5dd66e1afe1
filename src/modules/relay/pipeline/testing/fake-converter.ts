import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import {
  ConverterRegistry,
  type FormatPlan,
} from 'src/modules/relay/converters/converter.registry';
import type { WireFormat } from 'src/modules/relay/wire-format';

/**
 * A converter whose output is easy to recognise: the request becomes `{"converted":…}`, a
 * non-stream body `{"client":<provider JSON>}` (it throws on a body that is not JSON, as a real
 * converter does on bytes it cannot read), each stream chunk `<chunk>` and the stream's close
 * `<end>`, an error `{"clientError":status,"provider":"…"}`. Records what it was asked.
 */
export class FakeConverter implements Converter {
  readonly inputs: ConversionInput[] = [];
  readonly conversions: FakeConversion[] = [];

  constructor(
    readonly from: WireFormat,
    readonly to: WireFormat,
  ) {}

  convert(input: ConversionInput): Conversion {
    this.inputs.push(input);
    const conversion = new FakeConversion(input);
    this.conversions.push(conversion);
    return conversion;
  }
}

export class FakeConversion implements Conversion {
  readonly body: Buffer;
  readonly streams: { pushed: Buffer[]; ended: number }[] = [];
  readonly errors: { status: number; body: string }[] = [];

  constructor(input: ConversionInput) {
    this.body = Buffer.from(
      JSON.stringify({ converted: { ...input.body, model: input.upstreamModel } }),
    );
  }

  response(providerBody: Buffer): Buffer {
    const parsed: unknown = JSON.parse(providerBody.toString('utf8'));
    return Buffer.from(JSON.stringify({ client: parsed }));
  }

  stream(): StreamConversion {
    const record = { pushed: [] as Buffer[], ended: 0 };
    this.streams.push(record);
    return {
      push: (chunk) => {
        record.pushed.push(chunk);
        return Buffer.from(`<${chunk.toString('utf8')}>`);
      },
      end: () => {
        record.ended += 1;
        return Buffer.from('<end>');
      },
    };
  }

  error(status: number, providerBody: Buffer): Buffer {
    this.errors.push({ status, body: providerBody.toString('utf8') });
    return Buffer.from(
      JSON.stringify({ clientError: status, provider: providerBody.toString('utf8') }),
    );
  }
}

/** The real registry, plus the fake converter for its one pair of formats. */
export class FakeConverterRegistry extends ConverterRegistry {
  constructor(private readonly converter: FakeConverter | null) {
    super();
  }

  /** The fake wins over a real converter of the same pair (the real ones have their own specs). */
  override plan(from: WireFormat, formats: readonly WireFormat[]): FormatPlan {
    const fake = this.converter;
    if (fake !== null && fake.from === from && !formats.includes(from) && formats.includes(fake.to))
      return { format: fake.to, converter: fake };
    return super.plan(from, formats);
  }

  override between(from: WireFormat, to: WireFormat): Converter | null {
    const fake = this.converter;
    if (fake !== null && fake.from === from && fake.to === to) return fake;
    return super.between(from, to);
  }
}
