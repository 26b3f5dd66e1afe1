import type { LoggerService } from '@nestjs/common';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentRequestId } from './request-context';

const baseOptions: LoggerOptions = {
  level: 'info',
  base: { service: 'switchyard' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
};

/**
 * Log lines go to stdout asynchronously: under load the lines written while one write is in
 * flight leave together in the next, instead of one blocking write per line. pino flushes what
 * is left synchronously on process exit.
 */
const destination = pino.destination({ dest: 1, sync: false });

/**
 * Fields that never reach a log line, at the top level of a logged object or one level down, even
 * if someone logs a whole object (defence in depth): passwords, the credentials of every account
 * type as Switchyard names them (`apiKey`, `accessToken`, `refreshToken`, `idToken`,
 * `entraToken`) and as the upstreams' wire formats do (`access_token`, `refresh_token`,
 * `id_token` in OAuth token answers; `authorization`, `x-api-key`, Azure's `api-key` headers).
 */
const REDACTED_FIELDS = [
  'password',
  'authorization',
  'apiKey',
  'accessToken',
  'refreshToken',
  'idToken',
  'entraToken',
  'access_token',
  'refresh_token',
  'id_token',
  '["x-api-key"]',
  '["api-key"]',
];

export const LOG_REDACTION = {
  paths: REDACTED_FIELDS.flatMap((field) =>
    field.startsWith('[') ? [field, `*${field}`] : [field, `*.${field}`],
  ),
  censor: '[redacted]',
};

/**
 * One structured JSON logger writing to `stream`, with the request id mixin and the redaction
 * above: appLogger is the process's, and specs build their own over a stream they read.
 */
export function createAppLogger(stream: pino.DestinationStream): Logger {
  return pino(
    {
      ...baseOptions,
      mixin: () => {
        const requestId = currentRequestId();
        return requestId === undefined ? {} : { requestId };
      },
      redact: LOG_REDACTION,
    },
    stream,
  );
}

/**
 * One structured JSON logger for the process. Every line written inside a request carries its
 * request id (from AsyncLocalStorage), so a request can be followed across modules.
 */
export const appLogger: Logger = createAppLogger(destination);

export interface AccessLogEntry {
  requestId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  aborted: boolean;
  /** Only well-formed ids (letters, digits, `._:-`) may be passed here. */
  clientRequestId?: string;
}

const INFO = pino.levels.values.info;

/**
 * The access log: one line per HTTP request, written by the request-context middleware, at info
 * level on appLogger's stream, in appLogger's line format (level label, time, service, msg).
 * Its fields are fixed and carry no secrets, so it skips redaction and the context mixin, and
 * the line is built as a string: pino's generic serialiser was most of a line's cost, per request.
 */
export function logAccess(entry: AccessLogEntry, write: (line: string) => void = writeLine): void {
  if (appLogger.levelVal > INFO) return;
  let line =
    `{"level":"info","time":"${new Date().toISOString()}","service":"switchyard",` +
    `"requestId":${JSON.stringify(entry.requestId)},"method":${JSON.stringify(entry.method)},` +
    `"route":${JSON.stringify(entry.route)},"status":${entry.status},"ms":${entry.ms},` +
    `"aborted":${entry.aborted}`;
  if (entry.clientRequestId !== undefined) {
    line += `,"clientRequestId":${JSON.stringify(entry.clientRequestId)}`;
  }
  write(`${line},"msg":"request"}\n`);
}

function writeLine(line: string): void {
  destination.write(line);
}

export function setLogLevel(level: string): void {
  appLogger.level = level;
}

function messageOf(message: unknown): { msg: string; obj?: object } {
  if (message instanceof Error) return { msg: message.message, obj: { err: message } };
  if (typeof message === 'object' && message !== null) return { msg: '', obj: message };
  return { msg: String(message) };
}

/** Nest's LoggerService over the same pino instance, so framework lines are JSON too. */
export class NestPinoLogger implements LoggerService {
  // Nest's own "log" lines (module wiring, route mapping) are start-up chatter: debug level.
  log(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  error(message: unknown, trace?: string, context?: string): void {
    const { msg, obj } = messageOf(message);
    appLogger.error({ ...obj, context, trace }, msg);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }
  private write(
    level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    context?: string,
  ): void {
    const { msg, obj } = messageOf(message);
    appLogger[level]({ ...obj, context }, msg);
  }
}
