import { BusModule, type ServiceDefinition } from '@countersign/service-kit';
import { Module, type DynamicModule } from '@nestjs/common';
import type { PolicyConfig } from './config/policy-config';
import { PolicyConfigModule } from './config/policy-config.module';
import { PolicyModule } from './policy/policy.module';

/** Policies are files, versioned by snapshot: this service owns no database schema. */
export const SERVICE: ServiceDefinition = { name: 'policy-decision' };

@Module({})
export class AppModule {
  static forRoot(config: PolicyConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        BusModule.forRoot(SERVICE, config.env),
        PolicyConfigModule.forRoot(config),
        PolicyModule.forRoot(config),
      ],
    };
  }
}
