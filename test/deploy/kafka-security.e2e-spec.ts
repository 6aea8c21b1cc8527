import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { BaseEnvSchema, ConfigError, kafkaSecurityFromEnv, loadEnv } from '../../libs/config/src/env';
import { kafkaConfig } from '../../libs/bus/src/kafka/kafka-client';

/**
 * The services' Kafka SASL/TLS settings (libs/bus): read from the environment, checked together,
 * a half-configured setup refused at boot naming the variable, and handed to kafkajs as `sasl`/`ssl`.
 * Pure (no broker): the broker side is test/e2e/secure-broker.e2e-spec.ts.
 */
describe('Kafka SASL/TLS configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-kafka-security-'));
  const passwordFile = join(dir, 'password');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(passwordFile, 's3cret-from-file\n');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const fails = (env: NodeJS.ProcessEnv): string => {
    try {
      kafkaSecurityFromEnv(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('uses no SASL and no TLS when nothing is set (the local plain broker)', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({});
    const config = kafkaConfig({ clientId: 'x', brokers: ['b:1'], logger: pino({ enabled: false }), security: {} });
    expect(config.sasl).toBeUndefined();
    expect(config.ssl).toBeUndefined();
  });

  it('reads SCRAM credentials, the password inline or from a file (without its trailing newline)', () => {
    expect(
      kafkaSecurityFromEnv({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'audit',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'audit', password: 'p' },
    });
    expect(
      kafkaSecurityFromEnv({
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'audit',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      }).sasl,
    ).toEqual({ mechanism: 'scram-sha-256', username: 'audit', password: 's3cret-from-file' });
  });

  it('reads TLS: on with the system CAs, or with a CA file', () => {
    expect(kafkaSecurityFromEnv({ KAFKA_SSL: 'true' })).toEqual({ ssl: {} });
    expect(kafkaSecurityFromEnv({ KAFKA_SSL: '0' })).toEqual({});
    expect(kafkaSecurityFromEnv({ KAFKA_SSL: '1', KAFKA_SSL_CA_FILE: caFile }).ssl?.ca).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a half-configured setup, naming the variable', () => {
    expect(fails({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' })).toMatch(
      /KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set/,
    );
    expect(fails({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'audit' })).toMatch(
      /KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\): required/,
    );
    expect(fails({ KAFKA_SASL_USERNAME: 'audit', KAFKA_SASL_PASSWORD: 'p' })).toMatch(
      /KAFKA_SASL_MECHANISM: required when SASL credentials are set/,
    );
    expect(
      fails({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'a',
        KAFKA_SASL_PASSWORD: 'p',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
      }),
    ).toMatch(/not both/);
    expect(fails({ KAFKA_SSL_CA_FILE: caFile })).toMatch(/KAFKA_SSL: must be true when KAFKA_SSL_CA_FILE is set/);
    expect(fails({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') })).toMatch(
      /KAFKA_SSL_CA_FILE: cannot read/,
    );
    expect(
      fails({
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'a',
        KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing'),
      }),
    ).toMatch(/KAFKA_SASL_PASSWORD_FILE: cannot read/);
    expect(fails({ KAFKA_SASL_MECHANISM: 'gssapi' })).toMatch(/KAFKA_SASL_MECHANISM: /);
    expect(fails({ KAFKA_SSL: 'yes' })).toMatch(/KAFKA_SSL: /);
  });

  it('fails at boot: loadEnv of a service schema checks the SASL/TLS variables together', () => {
    const schema = BaseEnvSchema.extend({});
    expect(() => loadEnv(schema, { PORT: '1', KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toThrow(
      /KAFKA_SASL_USERNAME: required/,
    );
    expect(loadEnv(schema, { PORT: '1', KAFKA_SSL: 'true' }).KAFKA_SSL).toBe(true);
  });

  it('hands kafkajs `sasl` and `ssl` (with the CA), from explicit settings or from the process environment', () => {
    const logger = pino({ enabled: false });
    const explicit = kafkaConfig({
      clientId: 'x',
      brokers: ['b:1'],
      logger,
      security: { sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, ssl: { ca: 'PEM' } },
    });
    expect(explicit.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(explicit.ssl).toEqual({ ca: ['PEM'] });

    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'policy-decision',
        KAFKA_SASL_PASSWORD_FILE: passwordFile,
        KAFKA_SSL: 'true',
      });
      const fromEnv = kafkaConfig({ clientId: 'x', brokers: ['b:1'], logger });
      expect(fromEnv.sasl).toEqual({
        mechanism: 'scram-sha-512',
        username: 'policy-decision',
        password: 's3cret-from-file',
      });
      expect(fromEnv.ssl).toBe(true);
    } finally {
      for (const k of ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE', 'KAFKA_SSL']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
