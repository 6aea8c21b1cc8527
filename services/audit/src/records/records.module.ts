import { Module } from '@nestjs/common';
import { APPEND_STORE, AppendRecordsUseCase } from './append-records.use-case';
import { AuditRecordRepository } from './audit-record.repository';
import { DlqRecordsConsumer } from './dlq-records.consumer';
import { EventRecordsConsumer } from './event-records.consumer';
import { ShutdownSignal } from './shutdown-signal';

@Module({
  controllers: [EventRecordsConsumer, DlqRecordsConsumer],
  providers: [
    AuditRecordRepository,
    { provide: APPEND_STORE, useExisting: AuditRecordRepository },
    AppendRecordsUseCase,
    ShutdownSignal,
  ],
  exports: [AuditRecordRepository],
})
export class RecordsModule {}
