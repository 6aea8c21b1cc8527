import { Module } from '@nestjs/common';
import { AppendRecordsUseCase, CLOCK } from './append-records.use-case';
import { AuditRecordRepository } from './audit-record.repository';
import { DlqRecordsConsumer } from './dlq-records.consumer';
import { EventRecordsConsumer } from './event-records.consumer';
import { ShutdownSignal } from './shutdown-signal';

@Module({
  controllers: [EventRecordsConsumer, DlqRecordsConsumer],
  providers: [AuditRecordRepository, AppendRecordsUseCase, ShutdownSignal, { provide: CLOCK, useValue: () => new Date() }],
  exports: [AuditRecordRepository, CLOCK],
})
export class RecordsModule {}
