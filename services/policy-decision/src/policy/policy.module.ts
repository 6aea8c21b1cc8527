import { Module, type DynamicModule } from '@nestjs/common';
import type { PolicyConfig } from '../config/policy-config';
import { DecideProposalUseCase } from './decide-proposal.use-case';
import { JobProposedConsumer } from './job-proposed.consumer';
import { PolicyActivationService } from './policy-activation.service';
import { PolicyController } from './policy.controller';
import { PolicyStore } from './policy-store';

@Module({})
export class PolicyModule {
  static forRoot(config: PolicyConfig): DynamicModule {
    // Loaded before Nest starts: no valid policy means no service, in one readable line.
    const store = new PolicyStore(config.policySource);
    return {
      module: PolicyModule,
      controllers: [PolicyController, JobProposedConsumer],
      providers: [{ provide: PolicyStore, useValue: store }, DecideProposalUseCase, PolicyActivationService],
    };
  }
}
