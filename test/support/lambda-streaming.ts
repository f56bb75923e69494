import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import jwt from 'jsonwebtoken';

const PRELUDE_DELIMITER = '\0'.repeat(8);

/**
 * The `awslambda` global the Node.js runtime gives a function, as it behaves: streamifyResponse
 * marks the handler, and HttpResponseStream.from sends its status and headers as a JSON prelude
 * and eight null bytes before the first write (the runtime interface client's own way).
 * Installed when this module loads: import it before a streaming handler, which calls the global
 * as it loads, as in Lambda.
 */
function installStreamingRuntime(): void {
  const runtime = {
    streamifyResponse: <T extends object>(handler: T) => Object.assign(handler, { streamified: true }),
    HttpResponseStream: {
      from(stream: Writable, prelude: Record<string, unknown>) {
        const write = stream.write.bind(stream) as (chunk: string) => boolean;
        let first = true;
        stream.write = ((chunk: string) => {
          if (first) {
            first = false;
            write(JSON.stringify(prelude) + PRELUDE_DELIMITER);
          }
          return write(chunk);
        }) as Writable['write'];
        return stream;
      },
    },
  };
  Object.assign(globalThis, { awslambda: runtime });
}

installStreamingRuntime();

/** A response stream that keeps what is written; `answer` splits it as a function URL would. */
export function recordingResponseStream(): { stream: Writable; text(): string; answer(): { statusCode: number; headers: Record<string, string>; body: string } } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    answer() {
      const [prelude, ...body] = text().split(PRELUDE_DELIMITER);
      const { statusCode, headers } = JSON.parse(prelude ?? '{}') as { statusCode: number; headers: Record<string, string> };
      return { statusCode, headers, body: body.join(PRELUDE_DELIMITER) };
    },
  };
}

/** A function URL's event for GET /v1/live, with the token in `x-bearer-token` as CloudFront forwards it. */
export function liveRequest(token?: string, method = 'GET'): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/live',
    rawQueryString: '',
    headers: { accept: 'text/event-stream', ...(token === undefined ? {} : { 'x-bearer-token': token }) },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'url',
      domainName: 'url.lambda-url.us-east-1.on.aws',
      domainPrefix: 'url',
      http: { method, path: '/v1/live', protocol: 'HTTP/1.1', sourceIp: '198.51.100.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

/** An RSA signing key of an issuer, its JWKS, and tokens it signs (RS256, with its key id). */
export function tokenIssuer(issuer: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  return {
    jwks,
    /** What the key mirror keeps for the live function: these keys, and the audience the API accepts. */
    trust: (audience: readonly string[]) => JSON.stringify({ audience, jwks: JSON.parse(jwks) as unknown }),
    /** Valid five minutes unless the claims carry their own `exp`. */
    sign: (claims: Record<string, unknown>) => jwt.sign({ iss: issuer, exp: Math.floor(Date.now() / 1000) + 300, ...claims }, privateKey, { algorithm: 'RS256', keyid: kid }),
  };
}
