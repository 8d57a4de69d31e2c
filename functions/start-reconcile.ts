import { apiHandler } from '../lib/lambda';
import { startReconcile } from '../lib/network/api';

/** `POST /reconcile` (AWS_IAM): plan or apply the network desired state now. */
export const { run, handler } = apiHandler((event, rt) =>
  startReconcile(
    { sfn: rt.clients.sfn, stateMachineArn: rt.settings.reconcileStateMachineArn },
    { body: event.body, requester: event.requestContext?.identity?.userArn ?? 'unknown' },
  ),
);
