import { BusModule, type ServiceDefinition } from '@countersign/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import { BindingModule } from './binding/binding.module';
import { JobEntity } from './binding/job.entity';
import type { BindingConfig } from './config/binding-config';
import { BindingConfigModule } from './config/binding-config.module';
import { ExecutionEntity } from './execution/execution.entity';
import { migrations } from './migrations';

export const SERVICE: ServiceDefinition = {
  name: 'execution-binding',
  schema: 'execution_binding',
  entities: [JobEntity, ExecutionEntity],
  migrations,
};

@Module({})
export class AppModule {
  static forRoot(config: BindingConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [BusModule.forRoot(SERVICE, config.env), BindingConfigModule.forRoot(config), BindingModule],
    };
  }
}
