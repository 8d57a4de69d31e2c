/** What the offboarding API functions share: where executions live. */

export function executionArn(stateMachineArn: string, requestId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

export function requireStateMachine(settings: { offboardStateMachineArn?: string }): string {
  if (!settings.offboardStateMachineArn)
    throw new Error('OFFBOARD_STATE_MACHINE_ARN is not set; serverless.yml sets it.');
  return settings.offboardStateMachineArn;
}
