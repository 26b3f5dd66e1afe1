/** OpenAI's error `type` for a status, as its API and SDKs use them. */
export function openAIErrorType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** `{"error":{"message","type","param","code"}}`: the shape OpenAI's SDKs read. */
export function openAIErrorBody(
  status: number,
  message: string,
  code: string | null,
  param: string | null = null,
  type: string = openAIErrorType(status),
): Buffer {
  return Buffer.from(JSON.stringify({ error: { message, type, param, code } }));
}

/** A `data:` event carrying an error: OpenAI's SDKs throw it from the stream they are reading. */
export function openAIStreamErrorEvent(message: string, type = 'server_error'): Buffer {
  return Buffer.from(
    `data: ${JSON.stringify({ error: { message, type, param: null, code: null } })}\n\n`,
  );
}
