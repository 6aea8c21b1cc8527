import { BusModule, type ServiceDefinition } from '@countersign/bus';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Env } from './config/env.schema';
import { PolicyModule } from './policy/policy.module';

/** Policies are files, versioned by snapshot: this service owns no database schema. */
export const SERVICE: ServiceDefinition = { name: 'policy-decision' };

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return { module: AppModule, imports: [BusModule.forRoot(SERVICE, env), PolicyModule.forRoot(env)] };
  }
}
