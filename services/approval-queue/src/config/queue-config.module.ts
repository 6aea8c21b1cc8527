import { TOKEN_VERIFIER, tokenVerifierProvider } from '@countersign/service-kit';
import { CLOCK, systemClock } from '@countersign/clock';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { QUEUE_CONFIG, type QueueConfig } from './queue-config';

/** The config object, the clock and the approver token verifier, available to every feature module. */
@Global()
@Module({})
export class QueueConfigModule {
  static forRoot(config: QueueConfig): DynamicModule {
    return {
      module: QueueConfigModule,
      providers: [
        { provide: QUEUE_CONFIG, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        tokenVerifierProvider(config.approverAuth),
      ],
      exports: [QUEUE_CONFIG, CLOCK, TOKEN_VERIFIER],
    };
  }
}
