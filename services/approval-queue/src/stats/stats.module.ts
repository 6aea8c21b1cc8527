import { Module } from '@nestjs/common';
import { ApprovalStatsController } from './approval-stats.controller';
import { GetApprovalStatsQuery } from './get-approval-stats.query';
import { StatsRepository } from './stats.repository';

@Module({ controllers: [ApprovalStatsController], providers: [GetApprovalStatsQuery, StatsRepository] })
export class StatsModule {}
