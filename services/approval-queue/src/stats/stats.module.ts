import { Module } from '@nestjs/common';
import { ApprovalStatsController } from './approval-stats.controller';
import { GetApprovalStatsUseCase } from './get-approval-stats.use-case';
import { StatsRepository } from './stats.repository';

@Module({ controllers: [ApprovalStatsController], providers: [GetApprovalStatsUseCase, StatsRepository] })
export class StatsModule {}
