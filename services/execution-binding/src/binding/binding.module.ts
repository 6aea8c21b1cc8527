import { Module } from '@nestjs/common';
import { ExecutionRunner } from '../execution/execution-runner';
import { ReportOutcomeUseCase } from '../execution/report-outcome.use-case';
import { GetJobStateQuery } from '../jobs/get-job-state.query';
import { JobsController } from '../jobs/jobs.controller';
import { BindJobService } from './bind-job.service';
import { BindingDeps } from './binding-deps';
import { FactsConsumer } from './facts.consumer';
import { BindingRepository } from './binding.repository';
import { BindingStore } from './binding.port';
import { OutcomeWriter } from './outcome-writer';
import { RecordFactUseCase } from './record-fact.use-case';
import { SweeperService } from './sweeper.service';

/** Facts in, binding, execution and the job API: one feature, one transaction boundary per use case. */
@Module({
  controllers: [FactsConsumer, JobsController],
  providers: [
    { provide: BindingStore, useClass: BindingRepository },
    BindingDeps,
    OutcomeWriter,
    BindJobService,
    ExecutionRunner,
    RecordFactUseCase,
    SweeperService,
    ReportOutcomeUseCase,
    GetJobStateQuery,
  ],
})
export class BindingModule {}
