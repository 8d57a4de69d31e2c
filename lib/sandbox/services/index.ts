import type { SandboxService } from '../service';
import { ceService } from './ce';
import { ec2Service } from './ec2';
import { efsService } from './efs';
import { eksService } from './eks';
import { resolverService } from './route53resolver';
import { s3Service } from './s3';
import { snsService } from './sns';
import { ssmService } from './ssm';

/**
 * Every AWS service the sandbox estate simulates: the estate answers their commands, raises their
 * SDK exceptions and reads their seed sections from this list, and from nowhere else.
 *
 * To add a command to a service: add a handler to the service module's `commands`, named as the
 * SDK names the command without `Command`, typed with the SDK's `<Name>CommandInput` and
 * `<Name>CommandOutput` (see CommandHandler in lib/sandbox/service.ts), answering from
 * `estate.state` and throwing the service's SDK exceptions as AWS does, each with a comment citing
 * its source (the SDK's service model, an AWS doc). A test in test/unit/sandbox/ pins it.
 *
 * To add a service: write lib/sandbox/services/<name>.ts exporting a SandboxService (its client's
 * name in lib/aws/clients.ts, `source: __filename`, its SDK exceptions, its commands and the seed
 * sections it reads, if any) and add it here. State it keeps between calls goes in
 * lib/sandbox/state.ts; seed sections shared by several services (`network`, `fleet`) live in
 * lib/sandbox/seed.ts.
 */
export const SANDBOX_SERVICES = [
  ssmService,
  eksService,
  ec2Service,
  snsService,
  resolverService,
  efsService,
  ceService,
  s3Service,
] as const satisfies readonly SandboxService[];
