import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListFirewallRulesCommand } from '@aws-sdk/client-route53resolver';
import type * as ssmSdk from '@aws-sdk/client-ssm';
import {
  ParameterNotFound,
  type PutParameterCommandInput,
  type PutParameterCommandOutput,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import * as sts from '@aws-sdk/client-sts';
import { SandboxNotImplementedError } from '#lib/errors';
import { withServices } from '#lib/sandbox/index';
import { awsError, DEFAULT_SEED, SandboxEstate } from '#lib/sandbox/estate';
import { EstateSeedSchema, parseSeed } from '#lib/sandbox/seed';
import {
  type Answer,
  type CommandHandler,
  type SandboxService,
  type SdkExceptions,
  sdkError,
} from '#lib/sandbox/service';
import { SANDBOX_SERVICES } from '#lib/sandbox/services/index';
import { ssmCommands } from '#lib/sandbox/services/ssm';

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
      const declaring = require(service.source) as Record<string, unknown>;

      expect(SANDBOX_SERVICES.filter((s) => s.name === name)).toHaveLength(1);
      expect(Object.values(declaring)).toContain(service);
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

  const listed: readonly SandboxService[] = SANDBOX_SERVICES;
  it.each(listed.filter((s) => s.seed).map((s) => [s.name, s] as const))(
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

/** The SDK's input and output of command `Name`, as its `<Name>Command` class carries them. */
type SdkCommand<Sdk, Name extends string> = Sdk extends { [K in `${Name}Command`]: new (...args: never[]) => infer C }
  ? C extends { input: infer I; resolveMiddleware(...args: never[]): (args: never) => Promise<{ output: infer O }> }
    ? { input: I; output: O }
    : never
  : never;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** The names in `Commands` whose handler does not take and answer exactly the SDK's types for its command. */
type Mistyped<Commands, Sdk> = {
  [Name in keyof Commands & string]: Commands[Name] extends (estate: SandboxEstate, input: infer In) => infer Out
    ? SdkCommand<Sdk, Name> extends { input: infer I; output: infer O extends object }
      ? [Same<In, I>, Same<Awaited<Out>, Answer<O>>] extends [true, true]
        ? never
        : Name
      : Name
    : Name;
}[keyof Commands & string];
/** `service:Command` for each command of a listed service whose handler is mistyped. */
type MistypedIn<Service> = Service extends {
  name: infer Name extends string;
  commands: infer Commands;
  exceptions: { module: infer Sdk };
}
  ? `${Name}:${Mistyped<Commands, Sdk>}`
  : never;
/** Compiles only when `Names` is never; otherwise tsc names the mistyped commands. */
const noneOf = <Names extends never>(): Names[] => [];

describe("the sandbox's command handlers", () => {
  it('take and answer the SDK types of the command each is named for (tsc checks this)', () => {
    const mistyped = noneOf<MistypedIn<(typeof SANDBOX_SERVICES)[number]>>();

    expect(mistyped).toEqual([]);
  });

  it('would not compile with a handler of the wrong shape (tsc checks this)', () => {
    type Untyped = { PutParameter: (estate: SandboxEstate, input: Record<string, unknown>) => unknown };
    type Misnamed = { PutParamter: typeof ssmCommands.PutParameter };

    // @ts-expect-error: a handler that takes a Record is not typed with the SDK's input
    const untyped = noneOf<Mistyped<Untyped, typeof ssmSdk>>();
    // @ts-expect-error: the SDK has no PutParamterCommand
    const misnamed = noneOf<Mistyped<Misnamed, typeof ssmSdk>>();
    // @ts-expect-error: PutParameter answers Version as a number
    const wrongAnswer: CommandHandler<PutParameterCommandInput, PutParameterCommandOutput> = () => ({ Version: '2' });

    expect([untyped, misnamed, typeof wrongAnswer]).toEqual([[], [], 'function']);
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

    const attempt = estate.clients().sts.send(new sts.GetCallerIdentityCommand({}));

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
