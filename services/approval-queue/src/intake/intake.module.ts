import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { IntakeBatch } from './intake-batch';
import { IntakeConsumer } from './intake.consumer';
import { IntakeDecisionUseCase } from './intake-decision.use-case';
import { IntakeProposalUseCase } from './intake-proposal.use-case';

@Module({
  imports: [ApprovalsModule],
  controllers: [IntakeConsumer],
  providers: [IntakeBatch, IntakeDecisionUseCase, IntakeProposalUseCase],
})
export class IntakeModule {}
