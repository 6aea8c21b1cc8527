import './telemetry';
import { bootstrapService, runMain } from '@countersign/service-kit';
import { AppModule } from './app.module';
import { loadPolicyConfig } from './config/policy-config';

runMain(async () => {
  const config = loadPolicyConfig(process.env);
  const { env } = config;
  await bootstrapService({
    name: 'policy-decision',
    module: AppModule.forRoot(config),
    env,
    title: 'Countersign policy decision',
    description: 'Decides every proposal against the active policy snapshot of its tenant.',
    // Deciding is stateless and each decision's event id is derived from its proposal's, so a
    // partition's proposals can be decided together; their decisions then share produce requests.
    batchConsumer: { concurrency: env.POLICY_DECISION_CONSUME_CONCURRENCY },
  });
});
