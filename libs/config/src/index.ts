export * from './env';
export * from './keys';
export * from './approver-auth';
export * from './telemetry-env';
