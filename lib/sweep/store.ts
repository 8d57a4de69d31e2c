import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SweepStoreError } from '../errors';

/**
 * Where a sweep keeps what does not fit in Step Functions state (256 KiB per state): the
 * inventory, the probe batches, each check's findings, and the alert memory between nights. One
 * S3 bucket per stage; a night's objects live under `runs/<sweepId>/` and expire by lifecycle
 * rule (serverless.yml), the memory is one object that each successful night replaces.
 */
export interface SweepStore {
  putJson(key: string, value: unknown): Promise<void>;
  /** The object, or `undefined` when there is none. */
  getJson<T>(key: string): Promise<T | undefined>;
}

export const MEMORY_KEY = 'alert-memory.json';

/** The keys of one night's objects. */
export const runKeys = (sweepId: string) => ({
  inventory: `runs/${sweepId}/inventory.json`,
  batch: (n: number) => `runs/${sweepId}/targets/${String(n).padStart(4, '0')}.json`,
  findings: (part: string) => `runs/${sweepId}/findings/${part}.json`,
  pendingMemory: `runs/${sweepId}/alert-memory.json`,
  report: `runs/${sweepId}/report.json`,
  /** The alerts PublishAlerts has sent so far (a retry skips them). */
  published: `runs/${sweepId}/published.json`,
});

/** A night's id: its start in UTC and a random suffix, safe in an S3 key. */
export const SWEEP_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function s3SweepStore(s3: S3Client, bucket: string | undefined): SweepStore {
  if (!bucket) {
    throw new SweepStoreError(
      'The sweep bucket is not configured (SWEEP_BUCKET is empty).',
      'Deploy with serverless.yml, which creates the bucket and sets SWEEP_BUCKET on the sweep functions.',
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

/** Reads an object a previous step of the same night wrote; its absence is an error, not "empty". */
export async function mustGet<T>(store: SweepStore, key: string): Promise<T> {
  const value = await store.getJson<T>(key);
  if (value === undefined) {
    throw new SweepStoreError(
      `The sweep object ${key} is missing.`,
      'An earlier step of this night did not write it, or it expired; start the sweep again.',
    );
  }
  return value;
}

/** `s3://bucket/key`, for people reading an alert. */
export const objectUri = (bucket: string | undefined, key: string) => `s3://${bucket ?? '(sweep bucket)'}/${key}`;
