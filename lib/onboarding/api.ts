/** What the API handlers share: the answer shape and where executions live. */

/** An API answer, before it is wrapped as an API Gateway proxy result. */
export interface ApiAnswer {
  statusCode: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export { REQUEST_ID } from './state';

export function executionArn(stateMachineArn: string, requestId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

export function requireStateMachine(settings: { onboardStateMachineArn?: string }): string {
  if (!settings.onboardStateMachineArn)
    throw new Error('ONBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.onboardStateMachineArn;
}
