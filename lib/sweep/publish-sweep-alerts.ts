import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { AlertsUnconfirmedError, AlertsUnrecordedError } from '../errors';
import { logger } from '../logger';
import { mustGet, type RunStore } from '../store';
import type { NightReport } from './merge-sweep';
import type { PublishedAlert } from './state';
import { recordedSubjects, runKeys } from './store';

/**
 * The record of the night's alerts, one entry per alert in the report's order: sent (SNS answered
 * with a message id), or sent without an answer (`unanswered` times: SNS may have published it).
 */
export type PublishRecord = Array<Omit<PublishedAlert, 'messageId'> & { messageId?: string; unanswered?: number }>;

/** An alert is sent at most this many times without an answer: SNS standard topics do not deduplicate. */
export const MAX_UNANSWERED = 2;

/**
 * Step PublishSweepAlerts: each of the night's alerts to the topic, with the attributes subscribers
 * filter on. What was sent is recorded after each message, so a retried step (after a crash, or
 * SNS failing part-way) does not page twice. A record that cannot be written does not fail the
 * step, which would retry and page again: it is written with the next one; and when a publish
 * then fails too, the step stops with AlertsUnrecordedError (not retried), naming what went out.
 * An alert whose publish got no answer (a reset connection, a timeout: SNS may have published it)
 * is sent once more at most; one still unanswered fails the step, naming it, once the others are
 * out.
 */
export async function publishSweepAlerts(
  deps: { sns: SNSClient; store: RunStore },
  input: { sweepId: string; topicArn: string },
): Promise<{ alerts: PublishedAlert[] }> {
  const keys = runKeys(input.sweepId);
  const report = await mustGet<NightReport>(deps.store, keys.report);
  const record: PublishRecord = (await deps.store.getJson<PublishRecord>(keys.published)) ?? [];
  let recorded = true;
  const write = async () => {
    recorded = await deps.store.putJson(keys.published, record).then(
      () => true,
      (error: unknown) => {
        logger.warn('the record of published alerts could not be written; trying again after the next', {
          errorName: (error as Error).name,
        });
        return false;
      },
    );
  };
  for (const [i, alert] of report.alerts.entries()) {
    const entry = (record[i] ??= {
      subject: alert.subject,
      severity: alert.severity,
      cluster: alert.cluster,
      check: alert.check,
    });
    if (entry.messageId !== undefined || (entry.unanswered ?? 0) >= MAX_UNANSWERED) continue;
    const attributes: Record<string, MessageAttributeValue> = {
      severity: { DataType: 'String', StringValue: alert.severity },
      cluster: { DataType: 'String', StringValue: alert.cluster },
      check: { DataType: 'String', StringValue: alert.check },
    };
    try {
      const answer = await deps.sns.send(
        new PublishCommand({
          TopicArn: input.topicArn,
          Subject: alert.subject,
          Message: alert.message,
          MessageAttributes: attributes,
        }),
      );
      entry.messageId = answer.MessageId ?? '';
      await write();
    } catch (error) {
      // No answer at all (not SNS refusing): it may have gone out. Count it; never a third time.
      if (!(error as { $fault?: unknown }).$fault) entry.unanswered = (entry.unanswered ?? 0) + 1;
      await write();
      if ((entry.unanswered ?? 0) >= MAX_UNANSWERED) continue;
      if (!recorded) throw unrecorded(record, error);
      throw error;
    }
  }
  if (!recorded) await write();
  const unconfirmed = record.filter((e) => e.messageId === undefined);
  if (unconfirmed.length) {
    throw new AlertsUnconfirmedError(
      `${unconfirmed.length} of tonight's ${report.alerts.length} alert(s) were sent ${MAX_UNANSWERED} times without an answer from SNS, so they may or may not have gone out: ${unconfirmed.map((e) => e.subject).join('; ')}.`,
      'Check with a subscriber whether they arrived, and the SNS topic (its KMS key, its access policy); the next night reports the findings again.',
    );
  }
  return { alerts: record.map((e) => ({ ...e, messageId: e.messageId ?? '' })) };
}

/** The step cannot go on without paging again: what went out, and what may have, by subject. */
function unrecorded(record: PublishRecord, error: unknown): AlertsUnrecordedError {
  const { sent, maybe } = recordedSubjects(record);
  const listed = (subjects: string[]) => (subjects.length ? subjects.join('; ') : 'none');
  return new AlertsUnrecordedError(
    `Publishing failed (${(error as Error).name}: ${(error as Error).message}) while the record of tonight's alerts could not be written to the run store, so the step stops rather than page again. Sent: ${listed(sent)}. Sent without an answer from SNS (may have gone out): ${listed(maybe)}.`,
    "Check that the publish function may write to the run store bucket (s3:PutObject on runs/*) and the SNS topic; the next night reports tonight's findings again.",
  );
}
