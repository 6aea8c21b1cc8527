import { z } from 'zod';
import { BaseEnvSchema, ConfigError, loadEnv } from './env';

describe('loadEnv', () => {
  it('applies defaults', () => {
    const env = loadEnv(BaseEnvSchema, { PORT: '8081' });
    expect(env).toMatchObject({
      PORT: 8081,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/countersign',
    });
  });
  it('splits broker lists', () => {
    expect(loadEnv(BaseEnvSchema, { PORT: '1', KAFKA_BROKERS: 'a:1, b:2' }).KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });
  it('names every bad variable in one readable message', () => {
    const schema = BaseEnvSchema.extend({ SLA: z.coerce.number().int() });
    let error: unknown;
    try {
      loadEnv(schema, { PORT: 'eighty', DATABASE_URL: 'not a url', SLA: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration:/);
    expect(message).toMatch(/PORT: /);
    expect(message).toMatch(/DATABASE_URL: /);
    expect(message).toMatch(/SLA: /);
  });
  it('says when a required variable is not set', () => {
    expect(() => loadEnv(BaseEnvSchema, {})).toThrow(/PORT: .*\(not set\)/);
  });
});
