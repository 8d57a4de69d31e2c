import { BadRequest, DescribeMountTargetsCommand, EFSClient, ValidationException } from '@aws-sdk/client-efs';
import { observeMountTargets } from '#lib/efs/observe';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';

/**
 * The sandbox's EFS DescribeMountTargets pages as EFS does: 10 a page whatever MaxItems says (the
 * EFS API reference), with MaxItems below 1 refused as the model requires.
 */

const FS = 'fs-0a1b2c3d4e5f60718';

/** The seed's file system with 12 mount targets (more than AWS allows per AZ, which paging does not mind). */
function openWithTwelve() {
  const s = loadSeed(DEFAULT_SEED);
  const targets = s.network.fileSystems[0]!.mountTargets;
  for (let n = 1; n < 12; n += 1) {
    targets.push({ ...targets[0]!, id: `fsmt-0${String(n).padStart(16, '0')}`, ip: `10.0.1.${30 + n}` });
  }
  return withServices(SandboxEstate.inMemory(s));
}
const describeMountTargets = (efs: EFSClient, input: { MaxItems?: number; Marker?: string }) =>
  efs.send(new DescribeMountTargetsCommand({ FileSystemId: FS, ...input }));

describe('sandbox EFS DescribeMountTargets pages', () => {
  it('gives 10 a page even when MaxItems asks for 100, and a NextMarker for the rest', async () => {
    const efs = openWithTwelve().clients().efs;

    const first = await describeMountTargets(efs, { MaxItems: 100 });
    const second = await describeMountTargets(efs, { MaxItems: 100, Marker: first.NextMarker });

    expect(first.MountTargets).toHaveLength(10);
    expect(first.NextMarker).toEqual(expect.any(String));
    expect(second.MountTargets).toHaveLength(2);
    expect(second.NextMarker).toBeUndefined();
  });

  it('lets observeMountTargets read all 12, page by page', async () => {
    const estate = openWithTwelve();

    const targets = await observeMountTargets(estate.clients().efs, FS);

    expect(targets).toHaveLength(12);
    expect(estate.calls.filter((c) => c.command === 'DescribeMountTargets')).toHaveLength(2);
  });

  it('answers ValidationException to MaxItems 0, below the model minimum of 1', async () => {
    await expect(describeMountTargets(openWithTwelve().clients().efs, { MaxItems: 0 })).rejects.toThrow(
      new ValidationException({
        $metadata: {},
        message:
          "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ErrorCode: 'ValidationException',
      }),
    );
  });

  it('answers BadRequest to a Marker it never gave', async () => {
    await expect(describeMountTargets(openWithTwelve().clients().efs, { Marker: 'mt-page-2' })).rejects.toBeInstanceOf(
      BadRequest,
    );
  });
});
