export * from './canonical-json';
export * from './job-hash';
export * from './snapshot-id';
export * from './signing';
export * from './event-digest';
