import './telemetry';
import { runService } from '@countersign/service-kit';
import { appModule } from './app.module';
import { loadPolicyConfig } from './config/policy-config';

runService({
  name: 'policy-decision',
  load: loadPolicyConfig,
  module: appModule,
  title: 'Countersign policy decision',
  description: 'Decides every proposal against the active policy snapshot of its tenant.',
  // Deciding is stateless and each decision's event id is derived from its proposal's, so a
  // partition's proposals can be decided together; their decisions then share produce requests.
  batchConcurrency: ({ env }) => env.POLICY_DECISION_CONSUME_CONCURRENCY,
});
