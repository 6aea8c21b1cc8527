import { Module } from '@nestjs/common';
import { DecisionMadeConsumer } from './decision-made.consumer';
import { IntakeDecisionUseCase } from './intake-decision.use-case';
import { IntakeProposalUseCase } from './intake-proposal.use-case';
import { JobProposedConsumer } from './job-proposed.consumer';

@Module({ controllers: [DecisionMadeConsumer, JobProposedConsumer], providers: [IntakeDecisionUseCase, IntakeProposalUseCase] })
export class IntakeModule {}
