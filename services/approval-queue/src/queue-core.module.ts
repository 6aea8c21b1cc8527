import { BUS_LOGGER, loadSigner, loadTrustedKeys, TOKEN_VERIFIER, TokenVerifier } from '@countersign/bus';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApprovalEvents } from './approvals/approval-events';
import { ApprovalMetrics } from './approvals/approval-metrics';
import { ApprovalsRepository } from './approvals/approvals.repository';
import { approverAuthOptions } from './config/approver-auth';
import type { Env } from './config/env.schema';
import { CLOCK, systemClock } from './shared/clock';
import { DECISION_KEYS, QUEUE_ENV } from './shared/tokens';
import { EscalationWebhook } from './sweeper/escalation-webhook';

/**
 * What every feature shares, built once from the validated environment. Keys and the approver
 * token configuration are read here, at boot, so a missing one stops the service before it listens.
 */
@Global()
@Module({})
export class QueueCoreModule {
  static forRoot(env: Env, processEnv: NodeJS.ProcessEnv = process.env): DynamicModule {
    const signer = loadSigner(processEnv, 'APPROVAL_QUEUE');
    const decisionKeys = loadTrustedKeys(processEnv, 'POLICY_DECISION');
    const verifier = new TokenVerifier(approverAuthOptions(env));
    return {
      module: QueueCoreModule,
      providers: [
        { provide: QUEUE_ENV, useValue: env },
        { provide: CLOCK, useValue: systemClock },
        { provide: DECISION_KEYS, useValue: decisionKeys },
        { provide: TOKEN_VERIFIER, useValue: verifier },
        { provide: ApprovalEvents, useValue: new ApprovalEvents(signer) },
        { provide: ApprovalMetrics, useValue: new ApprovalMetrics() },
        {
          provide: EscalationWebhook,
          useFactory: (logger: Logger) =>
            new EscalationWebhook(env.ESCALATION_WEBHOOK_URL, env.ESCALATION_WEBHOOK_TIMEOUT_MS, logger),
          inject: [BUS_LOGGER],
        },
        ApprovalsRepository,
      ],
      exports: [
        QUEUE_ENV,
        CLOCK,
        DECISION_KEYS,
        TOKEN_VERIFIER,
        ApprovalEvents,
        ApprovalMetrics,
        EscalationWebhook,
        ApprovalsRepository,
      ],
    };
  }
}
