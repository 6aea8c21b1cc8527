import { KafkaInbox } from '@countersign/bus';
import { rawMessageOf } from '@countersign/service-kit';
import { Topics } from '@countersign/contracts';
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { DecideProposalUseCase } from './decide-proposal.use-case';

@Controller()
export class JobProposedConsumer {
  constructor(
    private readonly inbox: KafkaInbox,
    private readonly decideProposal: DecideProposalUseCase,
  ) {}

  @EventPattern(Topics.JobProposed)
  async onJobProposed(@Ctx() ctx: KafkaContext): Promise<void> {
    await this.inbox.handle(Topics.JobProposed, rawMessageOf(ctx), async (event) => {
      await this.decideProposal.execute(event);
    });
  }
}
