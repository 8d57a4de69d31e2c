import type { ClientClasses, ServiceName } from '#lib/aws/clients';
import type { NodeAccess } from '#lib/runtime';

/**
 * The SDK clients a handler declared, as test/infra/bundles.test.ts checks its bundle against:
 * those it sends commands with, and those whose credentials alone it uses (node access signs the
 * EKS token with the STS client's).
 */
export interface DeclaredClients {
  sends: ServiceName[];
  credentialsOf: ServiceName[];
}
export const declared = (classes: Partial<ClientClasses>, nodes?: NodeAccess): DeclaredClients => {
  const sends = (Object.keys(classes) as ServiceName[]).sort();
  const credentialsOf = (Object.keys(nodes?.clients ?? {}) as ServiceName[]).filter((s) => !sends.includes(s));
  return { sends, credentialsOf };
};
