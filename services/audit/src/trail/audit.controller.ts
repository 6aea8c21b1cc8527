import { ApiJsonOk, ApiQueryFrom, CurrentActor, ZodPipe, type Actor } from '@countersign/service-kit';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditorApi } from '../auth/auditor.guard';
import { ExportRecordsQuery } from './export-records.query';
import { ListRecordsQuery } from './list-records.query';
import {
  ExportQuerySchema,
  RecordPageSchema,
  VerifyResultSchema,
  ListRecordsQuerySchema,
  VerifyQuerySchema,
  type ExportQuery,
  type ListRecordsParams,
  type VerifyQuery,
} from './trail.schemas';
import { VerifyChainQuery, type VerifyResult } from './verify-chain.query';

@ApiTags('audit')
@AuditorApi('INVALID_REQUEST (the field is named)')
@Controller('api/v1/audit')
export class AuditController {
  constructor(
    private readonly listRecords: ListRecordsQuery,
    private readonly verifyChain: VerifyChainQuery,
    private readonly exportRecords: ExportRecordsQuery,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Audit records in chain order, filtered; keyset-paginated by seq',
    description: "A token's `tenants` claim limits the records to those tenants.",
  })
  @ApiQueryFrom(ListRecordsQuerySchema)
  @ApiJsonOk(RecordPageSchema)
  list(@Query(new ZodPipe(ListRecordsQuerySchema)) query: ListRecordsParams, @CurrentActor() actor: Actor) {
    return this.listRecords.execute(query, actor);
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Recompute the hash chain',
    description:
      'Checks every record hash, every prev_hash link, that no seq is missing and that the chain ends at its head. Reports the first broken seq.',
  })
  @ApiQueryFrom(VerifyQuerySchema)
  @ApiJsonOk(VerifyResultSchema)
  verify(@Query(new ZodPipe(VerifyQuerySchema)) query: VerifyQuery): Promise<VerifyResult> {
    return this.verifyChain.execute(query.from_seq, query.to_seq);
  }

  @Get('export')
  @ApiOperation({ summary: 'Stream records as NDJSON, one audit record per line, in chain order' })
  @ApiProduces('application/x-ndjson')
  @ApiQueryFrom(ExportQuerySchema)
  @ApiOkResponse({ description: 'One JSON audit record per line' })
  async export(
    @Query(new ZodPipe(ExportQuerySchema)) query: ExportQuery,
    @CurrentActor() actor: Actor,
    @Res() res: Response,
  ): Promise<void> {
    await this.exportRecords.streamTo(query, actor, res);
  }
}
