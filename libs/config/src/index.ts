export * from './env';
export * from './keys';
export * from './approver-auth';
