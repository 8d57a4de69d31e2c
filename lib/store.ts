import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StoreError } from './errors';

/**
 * Where the workflows keep what does not fit in Step Functions state (256 KiB per state): the
 * sweep's inventory, probe batches, findings and alert memory, the reconciler's plans and
 * outcomes. One S3 bucket per stage; a run's objects live under `runs/` and expire by lifecycle
 * rule (serverless.yml); the sweep's memory is one object each successful night replaces.
 */
export interface RunStore {
  putJson(key: string, value: unknown): Promise<void>;
  /** The object, or `undefined` when there is none. */
  getJson<T>(key: string): Promise<T | undefined>;
}

export function s3Store(s3: S3Client, bucket: string | undefined): RunStore {
  if (!bucket) {
    throw new StoreError(
      'The run store bucket is not configured (STORE_BUCKET is empty).',
      'Deploy with serverless.yml, which creates the bucket and sets STORE_BUCKET on the functions that use it.',
    );
  }
  return {
    async putJson(key, value) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: JSON.stringify(value),
          ContentType: 'application/json',
        }),
      );
    },
    async getJson<T>(key: string) {
      try {
        const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const text = await answer.Body?.transformToString('utf8');
        return text === undefined ? undefined : (JSON.parse(text) as T);
      } catch (error) {
        if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
  };
}

/** Reads an object an earlier step of the same run wrote; its absence is an error, not "empty". */
export async function mustGet<T>(store: RunStore, key: string): Promise<T> {
  const value = await store.getJson<T>(key);
  if (value === undefined) {
    throw new StoreError(
      `The run store object ${key} is missing.`,
      'An earlier step of this run did not write it, or it expired; start the workflow again.',
    );
  }
  return value;
}

/** `s3://bucket/key`, for people reading an alert. */
export const objectUri = (bucket: string | undefined, key: string) => `s3://${bucket ?? '(run store bucket)'}/${key}`;
