import { EKSClient } from '@aws-sdk/client-eks';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { eksNodeAccess } from '#lib/kube/eks-nodes';
import { submitOffboarding } from '#lib/offboarding/submit';
import { apiHandler } from '../commons/api-handler';
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
        body: event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body,
        query: event.queryStringParameters,
      },
      requester: event.requestContext?.identity?.userArn ?? 'unknown',
      baseUrl:
        `https://${event.requestContext?.domainName ?? 'localhost'}/${event.requestContext?.stage ?? ''}`.replace(
          /\/$/,
          '',
        ),
    });
    return submitted.outcome === 'started' ? accepted(submitted, { location: submitted.statusUrl }) : ok(submitted);
  },
  { nodes: eksNodeAccess },
);
