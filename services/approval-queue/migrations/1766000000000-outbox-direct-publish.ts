import { outboxDirectPublishMigration } from '@countersign/bus';

export const OutboxDirectPublish1766000000000 = outboxDirectPublishMigration('approval_queue');
