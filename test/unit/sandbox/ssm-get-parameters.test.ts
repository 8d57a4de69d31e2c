import { GetParametersCommand, ParameterType, PutParameterCommand, ValidationException } from '@aws-sdk/client-ssm';
import { withServices } from '#lib/sandbox/index';
import { DEFAULT_SEED, loadSeed, SandboxEstate } from '#lib/sandbox/estate';

/**
 * GetParameters as SSM answers it (API reference, GetParameters): 1 to 10 names, the parameters
 * found in alphabetical order, the names not found in InvalidParameters; SecureStrings decrypted
 * only when asked.
 */
const open = () => withServices(SandboxEstate.inMemory(loadSeed(DEFAULT_SEED)));

describe('sandbox SSM GetParameters', () => {
  it('answers the found ones in order and lists the others as invalid', async () => {
    const estate = open();
    const ssm = estate.clients().ssm;
    await ssm.send(new PutParameterCommand({ Name: '/t/b', Type: ParameterType.STRING, Value: 'bee' }));
    await ssm.send(new PutParameterCommand({ Name: '/t/a', Type: ParameterType.SECURE_STRING, Value: 'secret' }));
    const plain = await ssm.send(new GetParametersCommand({ Names: ['/t/b', '/t/missing', '/t/a'] }));
    expect(plain.Parameters?.map((p) => [p.Name, p.Value])).toEqual([
      ['/t/a', expect.stringContaining('ciphertext')],
      ['/t/b', 'bee'],
    ]);
    expect(plain.InvalidParameters).toEqual(['/t/missing']);
    const decrypted = await ssm.send(new GetParametersCommand({ Names: ['/t/a'], WithDecryption: true }));
    expect(decrypted.Parameters?.[0]?.Value).toBe('secret');
  });

  it('refuses more than 10 names, or none, as SSM does', async () => {
    const ssm = open().clients().ssm;
    const eleven = Array.from({ length: 11 }, (_, i) => `/t/${i}`);
    await expect(ssm.send(new GetParametersCommand({ Names: eleven }))).rejects.toBeInstanceOf(ValidationException);
    await expect(ssm.send(new GetParametersCommand({ Names: [] }))).rejects.toBeInstanceOf(ValidationException);
  });
});
