import { tokenVerifierProvider, TOKEN_VERIFIER } from '@countersign/service-kit';
import { CLOCK, systemClock } from '@countersign/clock';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { POLICY_CONFIG, type PolicyConfig } from './policy-config';

/** The config object, the clock and the operator/auditor token verifier, available to every feature module. */
@Global()
@Module({})
export class PolicyConfigModule {
  static forRoot(config: PolicyConfig): DynamicModule {
    return {
      module: PolicyConfigModule,
      providers: [
        { provide: POLICY_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        tokenVerifierProvider(config.approverAuth),
      ],
      exports: [POLICY_CONFIG, CLOCK, TOKEN_VERIFIER],
    };
  }
}
