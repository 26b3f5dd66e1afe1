import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** The service name Bedrock's runtime signs requests for (the credential scope's service). */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  url: URL;
  method: string;
  /** The headers to sign and send (lower-case names), `host` excluded: it is taken from url. */
  headers: Record<string, string>;
  body: Buffer;
  region: string;
  credentials: AwsCredentials;
  /** The signing time; default now (tests and the fake's check pass their own). */
  signingDate?: Date;
}

/**
 * SigV4 through the AWS SDK's own signer (`@smithy/signature-v4` with the `@aws-crypto` SHA-256):
 * the canonical request (path escaped as AWS services other than S3 expect, so a model id's `:`
 * sent as `%3A` is signed as `%253A`), the scope `<date>/<region>/bedrock/aws4_request`, and the
 * `x-amz-date`, `x-amz-content-sha256` and, for temporary credentials, `x-amz-security-token`
 * headers. Returns the headers to send (without `host`, which the HTTP client sets from url).
 */
export async function signBedrockRequest(input: SignInput): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: BEDROCK_SIGNING_SERVICE,
    region: input.region,
    credentials: input.credentials,
    sha256: Sha256,
  });
  const query: Record<string, string> = {};
  input.url.searchParams.forEach((value, key) => {
    query[key] = value;
  });
  const signed = await signer.sign(
    {
      method: input.method,
      protocol: input.url.protocol,
      hostname: input.url.hostname,
      port: input.url.port === '' ? undefined : Number(input.url.port),
      path: input.url.pathname,
      query,
      headers: { ...input.headers, host: input.url.host },
      body: input.body,
    },
    input.signingDate === undefined ? {} : { signingDate: input.signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name.toLowerCase() !== 'host') headers[name.toLowerCase()] = value;
  }
  return headers;
}
