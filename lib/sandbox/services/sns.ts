import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sdk from '@aws-sdk/client-sns';
import {
  InvalidParameterException,
  NotFoundException,
  type PublishCommandInput,
  type PublishCommandOutput,
} from '@aws-sdk/client-sns';
import type { SandboxEstate } from '../estate';
import type { Answer, SandboxService } from '../service';

/** A message the sandbox's SNS topic received. */
export interface OutboxMessage {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, string>;
  publishedAt: string;
}

/** The sandbox's one SNS topic: the alert topic the workflows publish to. */
export const sandboxTopicArn = (region: string, account: string) =>
  `arn:aws:sns:${region}:${account}:eks-hybrid-ops-sandbox-alerts`;

export const snsCommands = {
  Publish(estate: SandboxEstate, input: PublishCommandInput): Answer<PublishCommandOutput> {
    const topicArn = String(input.TopicArn ?? '');
    if (topicArn !== sandboxTopicArn(estate.seed.region, estate.seed.account)) {
      throw new NotFoundException({ $metadata: {}, message: `Topic does not exist: ${topicArn}` });
    }
    const subject = input.Subject;
    // "Subjects must be ... less than 100 characters long" (SNS service model, PublishInput.Subject;
    // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): 100 is refused.
    if (subject !== undefined && (subject.length === 0 || subject.length > 99 || !/^[\x20-\x7e]+$/.test(subject))) {
      throw new InvalidParameterException({
        $metadata: {},
        message: 'Invalid parameter: Subject: must be 1-99 ASCII characters without line breaks',
      });
    }
    for (const [key, value] of Object.entries(input.MessageAttributes ?? {})) {
      if (!value.StringValue) {
        throw new InvalidParameterException({
          $metadata: {},
          message: `Invalid parameter: MessageAttributes ${key}: empty value`,
        });
      }
    }
    estate.state.published += 1;
    const attributes = Object.fromEntries(
      Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? '']),
    );
    const messageId = estate.nextId('msg-', 24);
    const message: OutboxMessage = {
      messageId,
      topicArn,
      subject: input.Subject,
      message: String(input.Message ?? ''),
      attributes,
      publishedAt: estate.clock.now().toISOString(),
    };
    estate.outbox.push(message);
    if (estate.home) {
      const dir = join(estate.home, 'outbox');
      mkdirSync(dir, { recursive: true });
      const file = `${message.publishedAt.replace(/[:.]/g, '-')}-${String(estate.state.published).padStart(4, '0')}.json`;
      writeFileSync(join(dir, file), `${JSON.stringify(message, null, 2)}\n`);
    }
    return { MessageId: messageId };
  },
};

/** SNS: Publish records each message under $HYBRIDOPS_HOME/outbox/, one file per message. */
export const snsService = {
  name: 'sns',
  source: __filename,
  exceptions: { base: sdk.SNSServiceException, module: sdk },
  commands: snsCommands,
} satisfies SandboxService;
