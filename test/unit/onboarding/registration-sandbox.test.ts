import { checkRegistration } from '#lib/onboarding/registration';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';

/**
 * The registration poll against the sandbox estate, which serves DescribeInstanceInformation as SSM
 * does: each page of the whole instance list filtered, so in a large fleet the new instance comes
 * after pages that match nothing.
 */
describe('checkRegistration on the sandbox estate', () => {
  it('finds the instance that registered with the activation behind 60 others', async () => {
    const seed = loadSeed(DEFAULT_SEED);
    const base = seed.fleet[0]!;
    for (let n = 0; n < 60; n += 1) {
      seed.fleet.push({ ...base, name: `server-${n}`, instanceId: `mi-0${String(n).padStart(16, '0')}` });
    }
    const estate = withServices(SandboxEstate.inMemory(seed));
    const now = estate.clock.now();
    estate.state.instances['mi-0ffffffffffffffff'] = {
      instanceId: 'mi-0ffffffffffffffff',
      activationId: 'activation-of-gpu-node-01',
      name: 'gpu-node-01',
      ipAddress: '192.168.10.21',
      platformName: 'Ubuntu',
      platformVersion: '22.04',
      registrationDate: now.toISOString(),
      tags: [],
    };

    const state = await checkRegistration(
      { ssm: estate.clients().ssm, clock: estate.clock },
      {
        activationId: 'activation-of-gpu-node-01',
        activationExpiresAt: new Date(now.getTime() + 3600_000).toISOString(),
        nodeName: 'gpu-node-01',
        attempt: 0,
      },
    );

    expect(state).toMatchObject({ registered: true, instance: { instanceId: 'mi-0ffffffffffffffff' } });
    const pages = estate.calls.filter((c) => c.command === 'DescribeInstanceInformation');
    expect(
      pages.map((c) => (c.output as { InstanceInformationList: unknown[] }).InstanceInformationList.length),
    ).toEqual([0, 1]);
  });
});
