import { resolve } from 'node:path';
import { loadSigner, TOKEN_VERIFIER, tokenVerifierFromEnv } from '@countersign/bus';
import { Module, type DynamicModule } from '@nestjs/common';
import type { Env } from '../config/env.schema';
import { DecideProposalUseCase } from './decide-proposal.use-case';
import { JobProposedConsumer } from './job-proposed.consumer';
import { PolicyActivationService } from './policy-activation.service';
import { PolicyController } from './policy.controller';
import { POLICY_RELOAD_MS, POLICY_SIGNER } from './policy.tokens';
import { PolicyStore, type PolicySource } from './policy-store';

export function policySource(env: Env): PolicySource {
  if (env.POLICY_FILE) return { kind: 'file', path: resolve(env.POLICY_FILE) };
  return { kind: 'dir', path: resolve(env.POLICY_DIR ?? 'policies') };
}

@Module({})
export class PolicyModule {
  static forRoot(env: Env): DynamicModule {
    // Both fail fast at boot: no valid policy or no signing key means no service.
    const store = new PolicyStore(policySource(env));
    const signer = loadSigner(process.env, 'POLICY_DECISION');
    const verifier = tokenVerifierFromEnv(env);
    return {
      module: PolicyModule,
      controllers: [PolicyController, JobProposedConsumer],
      providers: [
        { provide: PolicyStore, useValue: store },
        { provide: POLICY_SIGNER, useValue: signer },
        { provide: TOKEN_VERIFIER, useValue: verifier },
        { provide: POLICY_RELOAD_MS, useValue: env.POLICY_RELOAD_MS },
        DecideProposalUseCase,
        PolicyActivationService,
      ],
    };
  }
}
