import { Readable } from 'node:stream';
import * as sdk from '@aws-sdk/client-s3';
import {
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  NoSuchBucket,
  NoSuchKey,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { SdkStream, SdkStreamMixin } from '@smithy/types';
import { SandboxNotImplementedError } from '#lib/errors';
import type { SandboxEstate } from '../estate';
import type { Answer, SandboxService } from '../service';

/** The sandbox's one bucket: the nightly sweep's store. */
export const sandboxStoreBucket = (account: string) => `eks-hybrid-ops-sandbox-store-${account}`;

/**
 * An object body as the SDK hands it back: a stream with the SDK's `transformTo*` helpers
 * (the sandbox answers before the SDK's deserializer would add them).
 */
export function sdkBody(text: string): SdkStream<Readable> {
  const bytes = Buffer.from(text, 'utf8');
  const mixin: SdkStreamMixin = {
    transformToString: async (encoding = 'utf8') => bytes.toString(encoding as BufferEncoding),
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToWebStream: () => Readable.toWeb(Readable.from([bytes])),
  };
  return Object.assign(Readable.from([bytes]), mixin);
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

export const s3Commands = {
  PutObject(estate: SandboxEstate, input: PutObjectCommandInput): Answer<PutObjectCommandOutput> {
    const objects = bucketOf(estate, input.Bucket);
    objects[String(input.Key)] = bodyText(input.Body);
    return { ETag: `"${estate.nextId('', 32)}"` };
  },

  GetObject(estate: SandboxEstate, input: GetObjectCommandInput): Answer<GetObjectCommandOutput> {
    const text = bucketOf(estate, input.Bucket)[String(input.Key)];
    if (text === undefined) throw new NoSuchKey({ ...meta, message: 'The specified key does not exist.' });
    return { Body: sdkBody(text), ContentLength: Buffer.byteLength(text), ContentType: 'application/json' };
  },
};

/** A PutObject body as text: the sandbox keeps objects sent whole, as the sweep's store sends them. */
function bodyText(body: PutObjectCommandInput['Body']): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  throw new SandboxNotImplementedError(
    "The sandbox's S3 takes a PutObject Body as a string or bytes, not a stream.",
    'Send the object whole, or run with --estate aws.',
  );
}

/** S3: one bucket, JSON objects in the sandbox state (they are small; the sweep's are). */
export const s3Service = {
  name: 's3',
  source: __filename,
  exceptions: { base: sdk.S3ServiceException, module: sdk },
  commands: s3Commands,
} satisfies SandboxService;
