import { serviceModule, type ServiceDefinition } from '@countersign/service-kit';
import type { DynamicModule } from '@nestjs/common';
import { POLICY_CONFIG, type PolicyConfig } from './config/policy-config';
import { PolicyModule } from './policy/policy.module';

/** Policies are files, versioned by snapshot: this service owns no database schema. */
export const SERVICE: ServiceDefinition = { name: 'policy-decision' };

/** The root module: the kit's bus and config wiring, then this service's features. */
export function appModule(config: PolicyConfig): DynamicModule {
  return serviceModule({
    service: SERVICE,
    config,
    configToken: POLICY_CONFIG,
    features: [PolicyModule.forRoot(config)],
  });
}
