import { Readable } from 'node:stream';
import * as sdk from '@aws-sdk/client-s3';
import { NoSuchBucket, NoSuchKey } from '@aws-sdk/client-s3';
import type { SdkStream } from '@smithy/types';
import type { SandboxEstate, ServiceHandlers } from '../estate';
import type { SandboxService } from '../service';

/** The sandbox's one bucket: the nightly sweep's store. */
export const sandboxStoreBucket = (account: string) => `eks-hybrid-ops-sandbox-store-${account}`;

/**
 * An object body as the SDK hands it back: a stream with the SDK's `transformTo*` helpers
 * (the sandbox answers before the SDK's deserializer would add them).
 */
export function sdkBody(text: string): SdkStream<Readable> {
  const bytes = Buffer.from(text, 'utf8');
  const mixin = {
    transformToString: async (encoding = 'utf8') => bytes.toString(encoding as BufferEncoding),
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToWebStream: () => Readable.toWeb(Readable.from([bytes])),
  };
  // Node's web ReadableStream and the DOM one the SDK's type names are the same object at runtime.
  return Object.assign(Readable.from([bytes]), mixin) as unknown as SdkStream<Readable>;
}

const meta = { $metadata: {} };

function bucketOf(estate: SandboxEstate, name: unknown): Record<string, string> {
  if (name !== sandboxStoreBucket(estate.seed.account)) {
    throw new NoSuchBucket({ ...meta, message: `The specified bucket does not exist: ${String(name)}` });
  }
  estate.state.objects ??= {};
  estate.state.objects[name] ??= {};
  return estate.state.objects[name];
}

export const s3Commands: ServiceHandlers = {
  PutObject(estate, input) {
    const objects = bucketOf(estate, input.Bucket);
    const body = input.Body;
    objects[String(input.Key)] = typeof body === 'string' ? body : Buffer.from(body as Uint8Array).toString('utf8');
    return { ETag: `"${estate.nextId('', 32)}"` };
  },

  GetObject(estate, input) {
    const text = bucketOf(estate, input.Bucket)[String(input.Key)];
    if (text === undefined) throw new NoSuchKey({ ...meta, message: 'The specified key does not exist.' });
    return { Body: sdkBody(text), ContentLength: Buffer.byteLength(text), ContentType: 'application/json' };
  },
};

/** S3: one bucket, JSON objects in the sandbox state (they are small; the sweep's are). */
export const s3Service: SandboxService = {
  name: 's3',
  source: __filename,
  exceptions: { base: sdk.S3ServiceException, module: sdk },
  commands: s3Commands,
};
