import type { Runtime } from '#lib/runtime';
import { type RunStore, s3Store } from '#lib/store';

/**
 * The run store of a handler that declared the S3 client: the stage's bucket, which serverless.yml
 * names in STORE_BUCKET on the functions that use it.
 */
export const runStoreOf = (rt: Pick<Runtime<'s3'>, 'clients' | 'settings'>): RunStore =>
  s3Store(rt.clients.s3, rt.settings.storeBucket);
