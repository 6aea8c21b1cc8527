export * from './token';
export * from './event';
export * from './wait';
