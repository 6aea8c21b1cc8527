import { serviceModule, type ServiceDefinition } from '@countersign/service-kit';
import type { DynamicModule } from '@nestjs/common';
import { BindingModule } from './binding/binding.module';
import { JobEntity } from './binding/job.entity';
import { BINDING_CONFIG, type BindingConfig } from './config/binding-config';
import { ExecutionEntity } from './execution/execution.entity';
import { migrations } from './migrations';

export const SERVICE: ServiceDefinition = {
  name: 'execution-binding',
  schema: 'execution_binding',
  entities: [JobEntity, ExecutionEntity],
  migrations,
};

/** The root module: the kit's bus and config wiring, then this service's features. */
export function appModule(config: BindingConfig): DynamicModule {
  return serviceModule({ service: SERVICE, config, configToken: BINDING_CONFIG, features: [BindingModule] });
}
