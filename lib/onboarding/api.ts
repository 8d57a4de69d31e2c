/** What the onboarding API functions share: where executions live. */

export { REQUEST_ID } from './state';

export { executionArn } from '../executions';

export function requireStateMachine(settings: { onboardStateMachineArn?: string }): string {
  if (!settings.onboardStateMachineArn)
    throw new Error('ONBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.onboardStateMachineArn;
}
