/** What the offboarding API functions share: where executions live. */

export { executionArn } from '../executions';

export function requireStateMachine(settings: { offboardStateMachineArn?: string }): string {
  if (!settings.offboardStateMachineArn)
    throw new Error('OFFBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.offboardStateMachineArn;
}
