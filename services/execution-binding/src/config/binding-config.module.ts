import { tokenVerifierProvider, TOKEN_VERIFIER } from '@countersign/service-kit';
import { CLOCK, systemClock } from '@countersign/clock';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { BINDING_CONFIG, type BindingConfig } from './binding-config';

/** The config object, the clock and the operator/auditor token verifier, available to every feature module. */
@Global()
@Module({})
export class BindingConfigModule {
  static forRoot(config: BindingConfig): DynamicModule {
    return {
      module: BindingConfigModule,
      providers: [
        { provide: BINDING_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        tokenVerifierProvider(config.approverAuth),
      ],
      exports: [BINDING_CONFIG, CLOCK, TOKEN_VERIFIER],
    };
  }
}
