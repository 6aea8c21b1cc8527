import { TOKEN_VERIFIER, tokenVerifierFromEnv } from '@countersign/bus';
import { Module, type DynamicModule } from '@nestjs/common';
import { BINDING_CONFIG, type BindingConfig } from '../config/binding-config';
import { ExecutionRunner } from '../execution/execution-runner';
import { ReportOutcomeUseCase } from '../execution/report-outcome.use-case';
import { GetJobStateQuery } from '../jobs/get-job-state.query';
import { JobsController } from '../jobs/jobs.controller';
import { BindJobService } from './bind-job.service';
import { FactsConsumer } from './facts.consumer';
import { BindingRepository } from './binding.repository';
import { BindingStore } from './binding.store';
import { OutcomeWriter } from './outcome-writer';
import { RecordFactUseCase } from './record-fact.use-case';
import { SweeperService } from './sweeper.service';

/** Facts in, binding, execution and the job API: one feature, one transaction boundary per use case. */
@Module({})
export class BindingModule {
  static forRoot(config: BindingConfig): DynamicModule {
    // Built before Nest starts, so a missing or contradictory token setting is one readable line at boot.
    const verifier = tokenVerifierFromEnv(config.env);
    return {
      module: BindingModule,
      controllers: [FactsConsumer, JobsController],
      providers: [
        { provide: BINDING_CONFIG, useValue: config },
        { provide: TOKEN_VERIFIER, useValue: verifier },
        { provide: BindingStore, useClass: BindingRepository },
        OutcomeWriter,
        BindJobService,
        ExecutionRunner,
        RecordFactUseCase,
        SweeperService,
        ReportOutcomeUseCase,
        GetJobStateQuery,
      ],
    };
  }
}
