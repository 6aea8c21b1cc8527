// Configuration moved to @countersign/config (Nest-free); re-exported for the bus's own users.
export * from '@countersign/config';
export * from './logger';
export * from './kafka/kafka-client';
export * from './kafka/event-factory';
export * from './kafka/event-producer';
export * from './kafka/dlq';
export * from './kafka/inbox';
export * from './db/data-source';
export * from './db/bus-tables';
export * from './db/outbox';
export * from './db/outbox-relay';
export * from './db/group-commit';
