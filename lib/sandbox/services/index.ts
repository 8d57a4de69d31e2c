import type { SandboxService } from '../service';
import { ceService } from './ce';
import { ec2Service } from './ec2';
import { efsService } from './efs';
import { eksService } from './eks';
import { resolverService } from './route53resolver';
import { s3Service } from './s3';
import { sfnService } from './sfn';
import { snsService } from './sns';
import { ssmService } from './ssm';

/**
 * Every AWS service the sandbox estate simulates: the estate answers their commands, raises their
 * SDK exceptions and reads their seed sections from this list, and from nowhere else.
 *
 * To add a command: in the service's module, add a handler to its `<name>Commands`, keyed by the
 * SDK's command name without `Command`, taking the SDK's `<Command>CommandInput` and returning
 * `Answer<<Command>CommandOutput>` (`import type` from the SDK package). It answers from
 * `estate.state` and throws what AWS throws (the SDK's exception classes), with a comment citing
 * the source of each behaviour (the SDK's service model, an AWS doc). Pin it with a test in
 * test/unit/sandbox/; test/unit/sandbox/services.test.ts already checks its types against the SDK.
 * (Outside the sandbox, the IAM simulation test wants the command's IAM request in
 * test/infra/iam/requests.ts.)
 *
 * To add a service: write lib/sandbox/services/<service>.ts exporting
 * `{ name, source: __filename, exceptions, commands, seed } satisfies SandboxService<typeof seed>`
 * (lib/sandbox/service.ts says what each is), and add it to this list. State it keeps between
 * calls goes in lib/sandbox/state.ts; seed sections several services share (`network`, `fleet`)
 * are in lib/sandbox/seed.ts. Its `name` is its client's key in lib/aws/clients.ts, where a
 * service the project did not call before gets its client.
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
  sfnService,
] as const satisfies readonly SandboxService[];
