import {
  Route53ResolverClient,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-route53resolver';
import { type AwsCommand, type AwsStub, mockClient } from 'aws-sdk-client-mock';

/**
 * @aws-sdk/client-route53resolver is at 3.654, the newest the registry has, built on older
 * @smithy/types than aws-sdk-client-mock's: the mock intercepts it as any client, but the compiler
 * cannot match its classes to the mock's signatures. `r53` retypes a command class for the mock,
 * keeping the command's own input and output types; `mockResolver` mocks the client.
 */
type ResolverCommandClass = new (input: never) => {
  input: object;
  resolveMiddleware(...args: never[]): (...args: never[]) => Promise<{ output: object }>;
};
type OutputOf<C extends ResolverCommandClass> = Awaited<
  ReturnType<ReturnType<InstanceType<C>['resolveMiddleware']>>
>['output'];

export const r53 = <C extends ResolverCommandClass>(command: C) =>
  command as unknown as new (input: InstanceType<C>['input']) => AwsCommand<InstanceType<C>['input'], OutputOf<C>>;

export const mockResolver = () =>
  mockClient(Route53ResolverClient as never) as unknown as AwsStub<ServiceInputTypes, ServiceOutputTypes, unknown>;
