import { addProcessedEventsTopicDigestSql, dropProcessedEventsTopicDigestSql } from '@countersign/bus';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const S = 'execution_binding';

/**
 * Facts are deduplicated per (topic, event_id) with a digest of the body (issue 15): a known id with
 * another body is a forgery attempt to report, not a redelivery to drop. Ids recorded before this
 * (topic '') are copied under the topic the job stored them for, so a redelivery of an old fact is
 * still recognised; `refused_facts` remembers each forged body already reported, so a redelivery of
 * a forgery reports nothing new.
 */
export class FactDedupePerTopic1765000000000 implements MigrationInterface {
  name = 'FactDedupePerTopic1765000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of addProcessedEventsTopicDigestSql(S)) await q.query(sql);
    await q.query(
      `INSERT INTO "${S}".processed_events (consumer, topic, event_id, digest, processed_at)
       SELECT p.consumer, f.topic, p.event_id, NULL, p.processed_at
       FROM "${S}".processed_events p
       JOIN (
         SELECT proposal_event_id AS event_id, 'job.proposed' AS topic FROM "${S}".jobs WHERE proposal_event_id IS NOT NULL
         UNION SELECT decision_event_id, 'decision.made' FROM "${S}".jobs WHERE decision_event_id IS NOT NULL
         UNION SELECT resolution_event_id, 'approval.resolved' FROM "${S}".jobs WHERE resolution_event_id IS NOT NULL
       ) f ON f.event_id = p.event_id
       WHERE p.topic = ''
       ON CONFLICT DO NOTHING`,
    );
    await q.query(`CREATE TABLE "${S}".refused_facts (
      topic text NOT NULL,
      event_id text NOT NULL,
      digest text NOT NULL,
      reason text NOT NULL CHECK (reason IN ('EVENT_ID_CONFLICT','BAD_SIGNATURE')),
      job_id text NOT NULL,
      known_digest text,
      refused_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (topic, event_id, digest)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS "${S}".refused_facts`);
    for (const sql of dropProcessedEventsTopicDigestSql(S)) await q.query(sql);
  }
}
