import { appLogger } from 'src/common/logging/app-logger';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import { routableAccount } from '../../../../test/factories/account.factory';
import { ClientGoneError, type RelayContext } from './relay-context';
import { RespondStage } from './respond.stage';
import { FakeConversion } from './testing/fake-converter';
import { sseEvent } from './testing/fake-provider';
import type { FakeResponse } from './testing/fake-response';
import {
  transportErrors,
  UpstreamBody,
  upstreamResponse,
  type ScriptedResponse,
} from './testing/fake-upstream-http';
import { pipelineHarness, type PipelineHarness } from './testing/pipeline-harness';

const SSE = { 'content-type': 'text/event-stream' };
const START = sseEvent('start', { usage: { inputTokens: 12, outputTokens: 1 } });
const DELTA = sseEvent('delta', { text: 'héllo wörld', usage: { outputTokens: 9 } });
const FINAL = sseEvent('final', { usage: { outputTokens: 10 } });

/** Bytes cut at awkward places: inside an event, inside a multi-byte character. */
function split(text: string, at: number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** The one SSE error event the client got after the upstream's bytes, parsed. */
function trailingError(res: FakeResponse, upstream: string): { type: string; error: unknown } {
  const text = res.text;
  expect(text.startsWith(upstream)).toBe(true);
  const tail = text.slice(upstream.length);
  const match = /^event: error\ndata: (.*)\n\n$/.exec(tail);
  if (match === null) throw new Error(`no trailing error event in ${JSON.stringify(tail)}`);
  return JSON.parse(match[1]) as { type: string; error: unknown };
}

function conversion(): FakeConversion {
  return new FakeConversion({
    body: { model: 'claude-sonnet-4-5' },
    upstreamModel: 'claude-sonnet-4-5',
    requestedModel: 'claude-sonnet-4-5',
    stream: true,
    operation: 'generate',
    requestId: 'req-1',
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe(RespondStage.name, () => {
  let h: PipelineHarness;
  let ctx: RelayContext;
  let res: FakeResponse;

  function respond(script: ScriptedResponse, converted: FakeConversion | null = null) {
    const response = upstreamResponse(script);
    return {
      response,
      done: h.respond.run(
        ctx,
        h.provider,
        { format: 'anthropic-messages', conversion: converted },
        { response },
      ),
    };
  }

  beforeEach(async () => {
    jest.spyOn(appLogger, 'warn').mockImplementation(() => appLogger);
    jest.spyOn(appLogger, 'info').mockImplementation(() => appLogger);
    h = await pipelineHarness({
      accounts: [routableAccount()],
      env: { RELAY_WRITE_STALL_TIMEOUT_MS: 50 },
    });
    ({ ctx, res } = h.context({
      body: { model: 'claude-sonnet-4-5', max_tokens: 64, stream: true },
    }));
  });

  afterEach(async () => {
    await h.close();
    jest.restoreAllMocks();
  });

  describe('run', () => {
    describe('a stream passed through', () => {
      it("should end the client's stream with the dialect's error event when the upstream ends cleanly without its final event", async () => {
        const upstream = START + DELTA;

        await respond({ status: 200, headers: SSE, body: split(upstream, [10, 70]) }).done;

        expect(res.statusCode).toBe(200);
        expect(res.getHeader('content-type')).toBe('text/event-stream');
        expect(trailingError(res, upstream)).toEqual({
          type: 'error',
          error: { type: 'api_error', message: expect.any(String) },
        });
        expect(res.writableEnded).toBe(true);
        expect(ctx.outcome).toBe('truncated');
        expect(ctx.errorCode).toBe('UPSTREAM_STREAM_TRUNCATED');
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 9 });
      });

      it("should pass a complete stream's bytes through unchanged", async () => {
        const upstream = START + DELTA + FINAL;
        // Cut inside an event and inside the two bytes of 'é'.
        const cut = Buffer.from(START + DELTA.slice(0, 30), 'utf8').length + 1;
        const chunks = split(upstream, [7, cut]);

        await respond({
          status: 200,
          headers: { ...SSE, 'content-length': '999', 'request-id': 'req_up' },
          body: chunks,
        }).done;

        expect(res.body.equals(Buffer.from(upstream, 'utf8'))).toBe(true);
        expect(res.getHeader('cache-control')).toBe('no-cache');
        expect(res.getHeader('request-id')).toBe('req_up');
        // The client must not count the response complete before the usage is journaled.
        expect(res.getHeader('content-length')).toBeUndefined();
        expect(ctx.outcome).toBe('ok');
        expect(ctx.errorCode).toBeNull();
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 10 });
        expect(ctx.ttfbMs).not.toBeNull();
      });

      it('should add nothing when the upstream sent its own error event', async () => {
        const upstream =
          START + sseEvent('error', { type: 'error', error: { type: 'overloaded_error' } });

        await respond({ status: 200, headers: SSE, body: upstream }).done;

        expect(res.text).toBe(upstream);
        expect(ctx.outcome).toBe('error');
        expect(ctx.errorCode).toBe('UPSTREAM_STREAM_ERROR');
      });

      it('should end with an error event and keep the usage seen when the upstream breaks off mid-stream', async () => {
        await respond({
          status: 200,
          headers: SSE,
          body: new UpstreamBody([START, DELTA], transportErrors.reset()),
        }).done;

        expect(trailingError(res, START + DELTA).type).toBe('error');
        expect(ctx.outcome).toBe('truncated');
        expect(ctx.errorCode).toBe('UPSTREAM_STREAM_TRUNCATED');
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 9 });
      });

      it('should send the headers at once when the first event is late', async () => {
        const body = new UpstreamBody([], 'open');
        const { done } = respond({ status: 200, headers: SSE, body });

        await until(() => res.flushes > 0);
        expect(res.headersSent).toBe(true);
        expect(res.chunks).toHaveLength(0);
        body.send(START + FINAL);
        body.finish();
        await done;

        expect(res.text).toBe(START + FINAL);
      });

      it('should settle the usage before the last byte leaves', async () => {
        let endedBeforeSettle: boolean | null = null;
        ctx.beforeEnd = async () => {
          endedBeforeSettle = res.writableEnded;
          expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 10 });
        };

        await respond({ status: 200, headers: SSE, body: START + FINAL }).done;

        expect(endedBeforeSettle).toBe(false);
        expect(res.writableEnded).toBe(true);
      });
    });

    describe('a stream through a conversion', () => {
      it("should write push()'s output and append end() when the stream is complete", async () => {
        const converted = conversion();

        await respond({ status: 200, headers: SSE, body: [START, DELTA, FINAL] }, converted).done;

        expect(res.text).toBe(`<${START}><${DELTA}><${FINAL}><end>`);
        expect(res.getHeader('content-type')).toBe('text/event-stream; charset=utf-8');
        expect(converted.streams[0].ended).toBe(1);
        // Usage is read on the provider's side of the conversion.
        expect(h.provider.taps[0].seen.map(String)).toEqual([START, DELTA, FINAL]);
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 10 });
        expect(ctx.outcome).toBe('ok');
      });

      it('should not call end() but send the error event when the stream ends without its final event', async () => {
        const converted = conversion();

        await respond({ status: 200, headers: SSE, body: [START, DELTA] }, converted).done;

        expect(trailingError(res, `<${START}><${DELTA}>`).type).toBe('error');
        expect(converted.streams[0].ended).toBe(0);
        expect(ctx.outcome).toBe('truncated');
        expect(ctx.errorCode).toBe('UPSTREAM_STREAM_TRUNCATED');
      });

      it("should not call end() when the upstream's stream ended with its own error event", async () => {
        const converted = conversion();
        const failed = sseEvent('error', { type: 'error', error: { type: 'overloaded_error' } });

        await respond({ status: 200, headers: SSE, body: [START, failed] }, converted).done;

        expect(res.text).toBe(`<${START}><${failed}>`);
        expect(converted.streams[0].ended).toBe(0);
        expect(ctx.outcome).toBe('error');
      });
    });

    describe('a non-stream response', () => {
      const BODY = JSON.stringify({ id: 'msg_1', usage: { inputTokens: 3, outputTokens: 4 } });

      it('should pass the bytes through and read the usage from them', async () => {
        await respond({ status: 200, body: split(BODY, [5, 20]) }).done;

        expect(res.text).toBe(BODY);
        expect(res.getHeader('content-type')).toBe('application/json');
        expect(res.flushes).toBe(0);
        expect(ctx.outcome).toBe('ok');
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 3, outputTokens: 4 });
      });

      it("should write response()'s output when a conversion is present", async () => {
        await respond({ status: 200, body: split(BODY, [9]) }, conversion()).done;

        expect(res.statusCode).toBe(200);
        expect(res.getHeader('content-type')).toBe('application/json');
        expect(JSON.parse(res.text)).toEqual({ client: JSON.parse(BODY) });
        expect(ctx.outcome).toBe('ok');
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 3, outputTokens: 4 });
      });

      it('should throw UPSTREAM_BAD_RESPONSE before any header when the converter cannot read the body', async () => {
        const { response, done } = respond(
          { status: 200, body: '<html>gateway</html>' },
          conversion(),
        );

        const error = await done.catch((e: unknown) => e);

        expect(error).toBeInstanceOf(RelayException);
        expect((error as RelayException).code).toBe(RelayExceptionCode.UPSTREAM_BAD_RESPONSE);
        expect(res.headersSent).toBe(false);
        expect(res.heads).toHaveLength(0);
        expect(res.chunks).toHaveLength(0);
        expect(ctx.outcome).toBe('error');
        expect(response.body.readableEnded).toBe(true);
      });
    });

    describe('a non-stream response through a conversion that breaks off', () => {
      it.each([
        ['a connection reset', transportErrors.reset(), RelayExceptionCode.UPSTREAM_BAD_RESPONSE],
        ['an idle timeout', transportErrors.idleTimeout(), RelayExceptionCode.UPSTREAM_TIMEOUT],
      ])(
        'should throw the upstream fault, not an internal error, when the body ends with %s',
        async (_name, fault, code) => {
          const { done } = respond(
            { status: 200, body: new UpstreamBody(['{"id":"msg_1",'], fault) },
            conversion(),
          );

          const error = await done.catch((e: unknown) => e);

          expect(error).toBeInstanceOf(RelayException);
          expect((error as RelayException).code).toBe(code);
          expect(res.headersSent).toBe(false);
        },
      );
    });

    describe('when the client leaves', () => {
      it('should throw ClientGoneError and drop the upstream body when the client left before the response', async () => {
        ctx.clientGone = true;
        const { response, done } = respond({
          status: 200,
          headers: SSE,
          body: new UpstreamBody([], 'open'),
        });

        await expect(done).rejects.toBeInstanceOf(ClientGoneError);
        expect(response.body.destroyed).toBe(true);
        expect(res.headersSent).toBe(false);
      });

      it('should stop reading the upstream and keep the usage seen when the client leaves mid-stream', async () => {
        const body = new UpstreamBody([START], 'open');
        const { done } = respond({ status: 200, headers: SSE, body });
        await until(() => res.chunks.length > 0);

        ctx.clientGone = true;
        res.destroy();
        await done;

        expect(body.destroyed).toBe(true);
        expect(ctx.outcome).toBe('aborted');
        expect(ctx.usage).toEqual({ ...emptyUsage(), inputTokens: 12, outputTokens: 1 });
      });

      it('should cut both sides when the client stops reading for the stall timeout', async () => {
        ({ ctx, res } = h.context({ response: { stalled: true, highWaterMark: 16 } }));
        const body = new UpstreamBody([START, DELTA], 'open');

        await respond({ status: 200, headers: SSE, body }).done;

        expect(ctx.clientGone).toBe(true);
        expect(ctx.errorCode).toBe('CLIENT_WRITE_STALLED');
        expect(ctx.outcome).toBe('aborted');
        expect(ctx.abort.aborted).toBe(true);
        expect(res.destroyed).toBe(true);
        expect(body.destroyed).toBe(true);
      });
    });
  });
});
