/** Injection tokens for what AppModule builds from the validated environment. */
export const QUEUE_ENV = Symbol('QUEUE_ENV');
export const DECISION_KEYS = Symbol('DECISION_KEYS');
