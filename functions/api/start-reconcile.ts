import { SFNClient } from '@aws-sdk/client-sfn';
import { startReconcile } from '#lib/network/api';
import { apiHandler } from '../commons/api-handler';
import { requestBody, requester } from '../commons/api-request';
import { accepted } from '../commons/http-answers';

/** `POST /reconcile` (AWS_IAM): plan or apply the network desired state now. */
export const { run, handler, clients } = apiHandler({ sfn: SFNClient }, async (event, rt) =>
  accepted(
    await startReconcile(
      { sfn: rt.clients.sfn, stateMachineArn: rt.settings.reconcileStateMachineArn },
      { body: requestBody(event), requester: requester(event) },
    ),
  ),
);
