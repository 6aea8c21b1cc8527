import { tokenVerifierProvider, TOKEN_VERIFIER } from '@countersign/service-kit';
import { CLOCK, systemClock } from '@countersign/clock';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AUDIT_CONFIG, type AuditConfig } from './audit-config';

/** The config object, the clock and the auditor token verifier, available to every feature module. */
@Global()
@Module({})
export class AuditConfigModule {
  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditConfigModule,
      providers: [
        { provide: AUDIT_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        tokenVerifierProvider(config.approverAuth),
      ],
      exports: [AUDIT_CONFIG, CLOCK, TOKEN_VERIFIER],
    };
  }
}
