import type { Env } from './env.schema';
import type { BindingKeys } from './binding-keys';
import type { ExecutorsConfig } from './executors.config';

export const BINDING_CONFIG = Symbol('BINDING_CONFIG');

/** Everything validated at boot, injected as one typed object. */
export interface BindingConfig {
  env: Env;
  keys: BindingKeys;
  executors: ExecutorsConfig;
}

export const SCHEMA = 'execution_binding';
/** The consumer name under which processed facts are recorded, each per (topic, event_id) with its digest. */
export const CONSUMER = 'execution-binding';
export const PRODUCER = 'execution-binding';
