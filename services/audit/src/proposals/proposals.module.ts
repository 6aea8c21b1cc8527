import { Module } from '@nestjs/common';
import { JobProposedConsumer } from './job-proposed.consumer';

@Module({ controllers: [JobProposedConsumer] })
export class ProposalsModule {}
