import { InvalidParameterException, PublishCommand } from '@aws-sdk/client-sns';
import { withServices } from '#lib/sandbox/index';
import { SandboxEstate } from '#lib/sandbox/estate';
import { sandboxTopicArn } from '#lib/sandbox/services/sns';

/** The sandbox's SNS Publish holds subjects to SNS's limit: "less than 100 characters long". */
describe('sandbox SNS Publish subject', () => {
  const publish = (estate: SandboxEstate, subject: string) =>
    estate.clients().sns.send(
      new PublishCommand({
        TopicArn: sandboxTopicArn(estate.seed.region, estate.seed.account),
        Subject: subject,
        Message: 'm',
      }),
    );

  it('takes a 99-character subject', async () => {
    const estate = withServices(SandboxEstate.inMemory());

    await publish(estate, 's'.repeat(99));

    expect(estate.outbox.map((m) => m.subject)).toEqual(['s'.repeat(99)]);
  });

  it('refuses a 100-character subject with InvalidParameter, publishing nothing', async () => {
    const estate = withServices(SandboxEstate.inMemory());

    const attempt = publish(estate, 's'.repeat(100));

    await expect(attempt).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(attempt).rejects.toThrow('Invalid parameter: Subject: must be 1-99 ASCII characters');
    expect(estate.outbox).toEqual([]);
  });
});
