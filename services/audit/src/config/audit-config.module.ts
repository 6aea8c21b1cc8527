import { TOKEN_VERIFIER } from '@countersign/bus';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { tokenVerifierFrom } from '../auth/token-verifier.factory';
import { AUDIT_SETTINGS, auditSettingsFrom } from '../records/audit-settings';
import type { Env } from './env.schema';

/** The service's own settings and the auditor token verifier, available to every feature module. */
@Global()
@Module({})
export class AuditConfigModule {
  static forRoot(env: Env): DynamicModule {
    // Built here, before Nest starts, so a bad secret is one readable line at boot.
    const verifier = tokenVerifierFrom(env);
    return {
      module: AuditConfigModule,
      providers: [
        { provide: AUDIT_SETTINGS, useValue: auditSettingsFrom(env) },
        { provide: TOKEN_VERIFIER, useValue: verifier },
      ],
      exports: [AUDIT_SETTINGS, TOKEN_VERIFIER],
    };
  }
}
