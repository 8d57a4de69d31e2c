import { randomBytes } from 'node:crypto';

/**
 * A run's id (a night's sweep, a reconciliation): its start (UTC) and a random suffix, so two
 * runs in one second do not collide; safe in an S3 key. Its own module: the functions that only
 * name a run do not load the S3 client with the run store.
 */
export const newRunId = (now: Date) =>
  `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${randomBytes(3).toString('hex')}`;

export const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
