import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListFirewallRulesCommand } from '@aws-sdk/client-route53resolver';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as sts from '@aws-sdk/client-sts';
import { ParameterNotFound, SSMServiceException } from '@aws-sdk/client-ssm';
import { SandboxNotImplementedError } from '../../../lib/errors';
import { withServices } from '../../../lib/sandbox';
import { awsError, DEFAULT_SEED, SandboxEstate } from '../../../lib/sandbox/estate';
import { EstateSeedSchema, parseSeed } from '../../../lib/sandbox/seed';
import { type SandboxService, type SdkExceptions, sdkError } from '../../../lib/sandbox/service';
import { SANDBOX_SERVICES } from '../../../lib/sandbox/services';

/**
 * Each simulated service declares itself in its own module (name, exceptions, commands, seed
 * sections) and the estate takes them from one list (lib/sandbox/services/index.ts), so adding one
 * touches one place.
 */

describe('the sandbox services list', () => {
  it('gives the estate every command each listed service declares, and no other', () => {
    const estate = withServices(SandboxEstate.inMemory());

    const declared = SANDBOX_SERVICES.flatMap((s) => Object.keys(s.commands).map((c) => `${s.name}:${c}`));

    expect(estate.implemented().sort()).toEqual(declared.sort());
  });

  it.each(SANDBOX_SERVICES.map((s) => [s.name, s] as const))(
    'names %s once, with the module that declares it as its source',
    (name, service) => {
      const module = require(service.source) as Record<string, unknown>;

      expect(SANDBOX_SERVICES.filter((s) => s.name === name)).toHaveLength(1);
      expect(Object.values(module)).toContain(service);
    },
  );

  it.each(SANDBOX_SERVICES.map((s) => [s.name, s] as const))(
    "raises %s's own SDK exceptions: the modelled class, else the base one",
    (name, service) => {
      const unmodelled = awsError(name, 'SandboxUnmodelledError', 'm');

      expect(unmodelled).toBeInstanceOf(service.exceptions.base);
      expect(unmodelled).toMatchObject({ name: 'SandboxUnmodelledError', $fault: 'client', message: 'm' });
      expect(Object.values(service.exceptions.module)).toContain(service.exceptions.base);
    },
  );

  it.each(SANDBOX_SERVICES.filter((s) => s.seed).map((s) => [s.name, s] as const))(
    'reads the seed sections %s declares from its declaration',
    (_name, service) => {
      for (const [section, schema] of Object.entries(service.seed ?? {})) {
        expect(EstateSeedSchema.shape).toHaveProperty([section], schema);
      }
    },
  );

  it("refuses a seed whose service section is wrong, naming the field (EC2's vpcs)", () => {
    const text = readFileSync(DEFAULT_SEED, 'utf8').replace(/^vpcs:/m, 'vpcs: 3\nunused:');

    expect(() => parseSeed(text, 'estate.yaml')).toThrow(/^The sandbox seed estate.yaml is invalid: vpcs: /);
  });

  it('raises a modelled exception as its own class, with the fault the model gives it', () => {
    const error = awsError('ssm', 'ParameterNotFound', 'gone');

    expect(error).toBeInstanceOf(ParameterNotFound);
    expect(error).toBeInstanceOf(SSMServiceException);
    expect(error).toMatchObject({ name: 'ParameterNotFound', $fault: 'client', message: 'gone' });
  });
});

describe('a command the sandbox does not answer', () => {
  const ROOT = join(__dirname, '..', '..', '..');

  it("names the file of its service, whatever the service's name", async () => {
    const estate = withServices(SandboxEstate.inMemory());

    const attempt = estate
      .clients()
      .resolver.send(new ListFirewallRulesCommand({ FirewallRuleGroupId: 'rslvr-frg-1' }));

    await expect(attempt).rejects.toBeInstanceOf(SandboxNotImplementedError);
    await expect(attempt).rejects.toMatchObject({
      fix: 'Add a ListFirewallRules handler to the commands in lib/sandbox/services/route53resolver.ts, or run with --estate aws.',
    });
    expect(existsSync(join(ROOT, 'lib/sandbox/services/route53resolver.ts'))).toBe(true);
  });

  it('of a service the sandbox does not simulate says where to declare one', async () => {
    const estate = withServices(SandboxEstate.inMemory());

    const attempt = estate.clients().sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:::x' }));

    await expect(attempt).rejects.toMatchObject({
      name: 'SandboxNotImplementedError',
      fix: expect.stringContaining('list it in lib/sandbox/services/index.ts'),
    });
    expect(existsSync(join(ROOT, 'lib/sandbox/services/index.ts'))).toBe(true);
  });
});

describe('a service declared in one place', () => {
  const exceptions: SdkExceptions = { base: sts.STSServiceException, module: sts };
  const stsService: SandboxService = {
    name: 'sts',
    source: __filename,
    exceptions,
    commands: {
      GetCallerIdentity: (estate: SandboxEstate, input: sts.GetCallerIdentityCommandInput) => ({
        Account: estate.seed.account,
        Arn: `arn:aws:sts::${estate.seed.account}:assumed-role/sandbox/${Object.keys(input).length}`,
      }),
      GetSessionToken: () => {
        throw sdkError(exceptions, 'RegionDisabledException', 'STS is not activated in this Region.');
      },
    },
  };

  it('is answered once registered, and raises its own SDK exceptions', async () => {
    const estate = SandboxEstate.inMemory();
    estate.register(stsService);
    const client = estate.clients().sts;

    const identity = await client.send(new sts.GetCallerIdentityCommand({}));
    const refused = client.send(new sts.GetSessionTokenCommand({}));

    expect(identity).toMatchObject({ Account: estate.seed.account, Arn: expect.stringMatching(/sandbox\/0$/) });
    await expect(refused).rejects.toBeInstanceOf(sts.RegionDisabledException);
    expect(estate.implemented()).toEqual(['sts:GetCallerIdentity', 'sts:GetSessionToken']);
  });

  it('keeps its other commands when registered again with one replaced', async () => {
    const estate = SandboxEstate.inMemory();
    estate.register(stsService);

    estate.register({ ...stsService, commands: { GetCallerIdentity: () => ({ Account: '000000000000' }) } });

    await expect(estate.clients().sts.send(new sts.GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Account: '000000000000',
    });
    expect(estate.implemented()).toEqual(['sts:GetCallerIdentity', 'sts:GetSessionToken']);
  });
});
