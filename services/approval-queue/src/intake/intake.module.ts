import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DecisionMadeConsumer } from './decision-made.consumer';
import { IntakeBatch } from './intake-batch';
import { IntakeDecisionUseCase } from './intake-decision.use-case';
import { IntakeProposalUseCase } from './intake-proposal.use-case';
import { JobProposedConsumer } from './job-proposed.consumer';

@Module({
  imports: [ApprovalsModule],
  controllers: [DecisionMadeConsumer, JobProposedConsumer],
  providers: [IntakeBatch, IntakeDecisionUseCase, IntakeProposalUseCase],
})
export class IntakeModule {}
