import { Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller';
import { GetJobDecisionsUseCase } from './get-job-decisions.use-case';
import { ListApprovalsUseCase } from './list-approvals.use-case';
import { ReviewJobUseCase } from './review-job.use-case';

@Module({
  controllers: [ApprovalsController],
  providers: [ListApprovalsUseCase, ReviewJobUseCase, GetJobDecisionsUseCase],
})
export class ApprovalsModule {}
