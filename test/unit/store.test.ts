import {
  GetObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { StoreError } from '#lib/errors';
import { sdkBody } from '#lib/sandbox/services/s3';
import { runKeys } from '#lib/sweep/store';
import { RUN_ID } from '#lib/run-id';
import { mustGet, objectUri, s3Store } from '#lib/store';

const s3Mock = mockClient(S3Client);
const s3 = () => new S3Client({ region: 'ap-northeast-2', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

const BUCKET = 'eks-hybrid-ops-test-store-111122223333';
const SWEEP = '20261122T060000Z-a1b2c3';
const INVENTORY_KEY = `runs/${SWEEP}/inventory.json`;

const s3Error = (name: string, message: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 403 }, message });

beforeEach(() => s3Mock.reset());

describe('s3Store', () => {
  it.each([
    ['undefined', undefined],
    ['empty', ''],
  ])('refuses to build a store when the bucket is %s', (_what, bucket) => {
    expect(() => s3Store(s3(), bucket)).toThrow(StoreError);
    expect(() => s3Store(s3(), bucket)).toThrow(
      expect.objectContaining({
        name: 'StoreError',
        message: expect.stringContaining('The run store bucket is not configured (STORE_BUCKET is empty).'),
        fix: 'Deploy with serverless.yml, which creates the bucket and sets STORE_BUCKET on the functions that use it.',
      }),
    );
  });

  it('writes a value as one JSON object in the bucket, under the key it is given', async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag"' });

    await s3Store(s3(), BUCKET).putJson(INVENTORY_KEY, { clusters: [{ name: 'gpu-hybrid-cluster' }], calls: 7 });

    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      {
        Bucket: BUCKET,
        Key: INVENTORY_KEY,
        Body: '{"clusters":[{"name":"gpu-hybrid-cluster"}],"calls":7}',
        ContentType: 'application/json',
      },
    ]);
  });

  it('lets a failed write fail', async () => {
    s3Mock.on(PutObjectCommand).rejects(s3Error('AccessDenied', 'Access Denied'));

    await expect(s3Store(s3(), BUCKET).putJson('k.json', {})).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Access Denied',
    });
  });

  it('reads an object back and parses its JSON', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: sdkBody('{"takenAt":"2026-11-22T06:00:00.000Z","targets":[1,2]}') });

    const value = await s3Store(s3(), BUCKET).getJson<{ takenAt: string; targets: number[] }>(INVENTORY_KEY);

    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: INVENTORY_KEY },
    ]);
    expect(value).toEqual({ takenAt: '2026-11-22T06:00:00.000Z', targets: [1, 2] });
  });

  it('answers undefined for a key that does not exist', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: {}, message: 'The specified key does not exist.' }));

    await expect(s3Store(s3(), BUCKET).getJson('alert-memory.json')).resolves.toBeUndefined();
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: BUCKET, Key: 'alert-memory.json' });
  });

  it('also recognises NoSuchKey by name, as an unmodelled S3 error', async () => {
    s3Mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 'The specified key does not exist.'));

    await expect(s3Store(s3(), BUCKET).getJson('alert-memory.json')).resolves.toBeUndefined();
  });

  it('lets every other error through, a missing bucket included', async () => {
    const store = s3Store(s3(), BUCKET);
    const noBucket = new NoSuchBucket({ $metadata: {}, message: 'The specified bucket does not exist' });
    s3Mock.on(GetObjectCommand).rejectsOnce(noBucket).rejectsOnce(s3Error('AccessDenied', 'Access Denied'));

    await expect(store.getJson('a.json')).rejects.toBe(noBucket);
    await expect(store.getJson('b.json')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('lets a body that is not JSON fail rather than read as missing', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: sdkBody('not json') });

    await expect(s3Store(s3(), BUCKET).getJson('a.json')).rejects.toThrow(SyntaxError);
  });
});

describe('mustGet', () => {
  it('returns what the store holds', async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: sdkBody('{"nodes":3}') });

    await expect(mustGet(s3Store(s3(), BUCKET), INVENTORY_KEY)).resolves.toEqual({ nodes: 3 });
  });

  it('fails with StoreError naming the key when the object is missing', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ $metadata: {}, message: 'The specified key does not exist.' }));

    const failure = mustGet(s3Store(s3(), BUCKET), INVENTORY_KEY);

    await expect(failure).rejects.toBeInstanceOf(StoreError);
    await expect(failure).rejects.toMatchObject({
      name: 'StoreError',
      message: expect.stringContaining(`The run store object ${INVENTORY_KEY} is missing.`),
      fix: 'An earlier step of this run did not write it, or it expired; start the workflow again.',
    });
  });
});

describe('sweep object keys', () => {
  it('keeps a night under runs/<sweepId>/, with batches numbered to four digits', () => {
    const keys = runKeys(SWEEP);
    expect(keys.inventory).toBe(`runs/${SWEEP}/inventory.json`);
    expect(keys.batch(7)).toBe(`runs/${SWEEP}/targets/0007.json`);
    expect(keys.batch(1234)).toBe(`runs/${SWEEP}/targets/1234.json`);
    expect(keys.findings('cost')).toBe(`runs/${SWEEP}/findings/cost.json`);
    expect(keys.pendingMemory).toBe(`runs/${SWEEP}/alert-memory.json`);
    expect(keys.report).toBe(`runs/${SWEEP}/report.json`);
  });

  it('accepts a sweep id of a UTC start and six hex digits, and nothing else', () => {
    expect(RUN_ID.test(SWEEP)).toBe(true);
    expect(RUN_ID.test('20261122T060000Z-A1B2C3')).toBe(false);
    expect(RUN_ID.test('20261122T060000-a1b2c3')).toBe(false);
    expect(RUN_ID.test('../20261122T060000Z-a1b2c3')).toBe(false);
  });

  it('names an object as an s3:// URI, with a placeholder when the bucket is unknown', () => {
    expect(objectUri(BUCKET, INVENTORY_KEY)).toBe(`s3://${BUCKET}/${INVENTORY_KEY}`);
    expect(objectUri(undefined, 'alert-memory.json')).toBe('s3://(run store bucket)/alert-memory.json');
  });
});
