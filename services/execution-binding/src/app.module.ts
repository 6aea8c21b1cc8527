import { BusModule, type ServiceDefinition } from '@countersign/bus';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Env } from './config/env.schema';
import { migrations } from './migrations';
import { ProposalsModule } from './proposals/proposals.module';

export const SERVICE: ServiceDefinition = {
  name: 'execution-binding',
  schema: 'execution_binding',
  entities: [],
  migrations,
};

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return { module: AppModule, imports: [BusModule.forRoot(SERVICE, env), ProposalsModule] };
  }
}
