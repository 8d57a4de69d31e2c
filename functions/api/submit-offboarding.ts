import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { submitOffboarding } from '#lib/offboarding/submit';
import { apiHandler } from '../commons/api-handler';
import { apiBaseUrl, requestBody, requester } from '../commons/api-request';
import { accepted, ok } from '../commons/http-answers';

/**
 * `DELETE /nodes/{node}` (AWS_IAM): validate the request and the node, then start the offboarding
 * workflow (202, where to follow it); a node already gone is a 200 saying so.
 *
 * API Gateway (REST) allows one variable per path level ("A sibling ({requestId}) of this resource
 * already has a variable path part -- only one is allowed"), so this method shares the resource
 * `/nodes/{requestId}` of `GET /nodes/{requestId}`: the node's name arrives as `requestId`.
 */
export const { run, handler, clients } = apiHandler(
  { sfn: SFNClient, eks: EKSClient, ssm: SSMClient },
  async (event, rt) => {
    const submitted = await submitOffboarding(rt, {
      ask: {
        node: event.pathParameters?.requestId,
        body: requestBody(event),
        query: event.queryStringParameters,
      },
      requester: requester(event),
      baseUrl: apiBaseUrl(event),
    });
    return submitted.outcome === 'started' ? accepted(submitted, { location: submitted.statusUrl }) : ok(submitted);
  },
  { nodes: eksNodeAccess },
);
