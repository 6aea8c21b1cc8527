import { Module } from '@nestjs/common';
import { SlaSweeperService } from './sla-sweeper.service';
import { SweepApprovalsUseCase } from './sweep-approvals.use-case';

@Module({ providers: [SweepApprovalsUseCase, SlaSweeperService] })
export class SweeperModule {}
