export * from './token';
export * from './event';
export * from './wait';
export * from './fixtures';
export * from './message-waits';
