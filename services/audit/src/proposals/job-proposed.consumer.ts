import { BUS_LOGGER, KafkaInbox, rawMessageOf } from '@countersign/bus';
import { Topics } from '@countersign/contracts';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import type { Logger } from 'pino';

@Controller()
export class JobProposedConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    @Inject(BUS_LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(Topics.JobProposed)
  async onJobProposed(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.JobProposed, rawMessageOf(ctx), async (event) => {
      this.logger.debug({ event_id: event.event_id, job_id: event.data.job_id }, 'job.proposed stored');
    });
  }
}
