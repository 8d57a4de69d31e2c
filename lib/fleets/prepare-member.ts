import { StoreError } from '../errors';
import { mustGet, type RunStore } from '../store';
import type { FleetManifest, FleetMemberRef, MemberInput } from './state';

/**
 * Task PrepareMember: one server's onboard-node input, from the fleet's manifest in the run store
 * (the fleet's state carries ids only). The manifest must be this fleet's as it was submitted (its
 * digest), and name this member under this request id: the child execution is named by it.
 */
export async function prepareMember(
  deps: { store: RunStore },
  input: { fleetId: string; manifestKey: string; requestDigest: string; member: FleetMemberRef },
): Promise<MemberInput> {
  const manifest = await mustGet<FleetManifest>(deps.store, input.manifestKey);
  if (manifest.fleetId !== input.fleetId || manifest.requestDigest !== input.requestDigest) {
    throw new StoreError(
      `The manifest ${input.manifestKey} is not the one fleet ${input.fleetId} was submitted with.`,
      'Submit the fleet again with a new clientToken; nothing of this server was started.',
    );
  }
  const found = manifest.members.find((m) => m.index === input.member.index);
  if (!found || found.requestId !== input.member.requestId || found.input.requestId !== input.member.requestId) {
    throw new StoreError(
      `The manifest ${input.manifestKey} has no server ${input.member.name} as ${input.member.requestId}.`,
      'Submit the fleet again with a new clientToken; nothing of this server was started.',
    );
  }
  return found.input;
}
