import { SFNClient } from '@aws-sdk/client-sfn';
import { apiHandler } from '../commons/api-handler';
import { startReconcile } from '../../lib/network/api';

/** `POST /reconcile` (AWS_IAM): plan or apply the network desired state now. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, (event, rt) =>
  startReconcile(
    { sfn: rt.clients.sfn, stateMachineArn: rt.settings.reconcileStateMachineArn },
    { body: event.body, requester: event.requestContext?.identity?.userArn ?? 'unknown' },
  ),
);
