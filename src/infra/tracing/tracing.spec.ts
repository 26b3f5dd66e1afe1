import { otlpTracesUrl, parseOtlpHeaders } from './tracing';

describe(otlpTracesUrl.name, () => {
  it('should post to /v1/traces below the OTLP endpoint, localhost:4318 by default', () => {
    expect(otlpTracesUrl({})).toBe('http://localhost:4318/v1/traces');
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/' })).toBe(
      'https://otel.example.com/v1/traces',
    );
  });

  it('should take the traces endpoint as given when it is set', () => {
    expect(
      otlpTracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom/traces',
      }),
    ).toBe('http://collector:4318/custom/traces');
  });
});

describe(parseOtlpHeaders.name, () => {
  it('should read key=value pairs, percent-decoding values', () => {
    expect(parseOtlpHeaders('x-honeycomb-team=abc%3D%3D, Authorization=Basic dXNlcg==')).toEqual({
      'x-honeycomb-team': 'abc==',
      authorization: 'Basic dXNlcg==',
    });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });
});
