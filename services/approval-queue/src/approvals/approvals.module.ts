import { Module } from '@nestjs/common';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import { ApprovalEvents } from './approval-events';
import { ApprovalMetrics } from './approval-metrics';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsRepository } from './approvals.repository';
import { GetJobDecisionsUseCase } from './get-job-decisions.use-case';
import { ListApprovalsUseCase } from './list-approvals.use-case';
import { ReviewJobUseCase } from './review-job.use-case';

/** The approvals and their events; intake and the sweeper write through the same store, events and metrics. */
@Module({
  controllers: [ApprovalsController],
  providers: [
    ApprovalsRepository,
    {
      provide: ApprovalEvents,
      useFactory: (config: QueueConfig) => new ApprovalEvents(config.signer),
      inject: [QUEUE_CONFIG],
    },
    { provide: ApprovalMetrics, useValue: new ApprovalMetrics() },
    ListApprovalsUseCase,
    ReviewJobUseCase,
    GetJobDecisionsUseCase,
  ],
  exports: [ApprovalsRepository, ApprovalEvents, ApprovalMetrics],
})
export class ApprovalsModule {}
