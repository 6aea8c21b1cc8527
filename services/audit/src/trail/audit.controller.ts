import { BearerAuthGuard, CurrentActor, ZodPipe, type Actor } from '@countersign/bus';
import { applyDecorators, Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditorGuard } from '../auth/auditor.guard';
import { ExportRecordsUseCase } from './export-records.use-case';
import { ListRecordsUseCase } from './list-records.use-case';
import { ErrorOpenApi, RecordPageOpenApi, VerifyResultOpenApi } from './trail.openapi';
import {
  ExportQuerySchema,
  ListRecordsQuerySchema,
  VerifyQuerySchema,
  type ExportQuery,
  type ListRecordsQuery,
  type VerifyQuery,
} from './trail-query.schemas';
import { VerifyChainUseCase, type VerifyResult } from './verify-chain.use-case';

const FilterQueries = () =>
  applyDecorators(
    ApiQuery({ name: 'job_id', required: false }),
    ApiQuery({ name: 'tenant', required: false }),
    ApiQuery({ name: 'type', required: false, description: 'event_type, e.g. decision.made or rejected_input' }),
    ApiQuery({ name: 'from', required: false, description: 'recorded_at >= from (ISO-8601)' }),
    ApiQuery({ name: 'to', required: false, description: 'recorded_at < to (ISO-8601)' }),
  );

@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid bearer token', schema: ErrorOpenApi })
@ApiForbiddenResponse({ description: 'ROLE_NOT_ALLOWED: the token lacks the auditor role', schema: ErrorOpenApi })
@UseGuards(BearerAuthGuard, AuditorGuard)
@Controller('api/v1/audit')
export class AuditController {
  constructor(
    private readonly listRecords: ListRecordsUseCase,
    private readonly verifyChain: VerifyChainUseCase,
    private readonly exportRecords: ExportRecordsUseCase,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Audit records in chain order, filtered; keyset-paginated by seq',
    description: "A token's `tenants` claim limits the records to those tenants.",
  })
  @FilterQueries()
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiOkResponse({ schema: RecordPageOpenApi })
  list(@Query(new ZodPipe(ListRecordsQuerySchema)) query: ListRecordsQuery, @CurrentActor() actor: Actor) {
    return this.listRecords.execute(query, actor);
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Recompute the hash chain',
    description:
      'Checks every record hash, every prev_hash link, that no seq is missing and that the chain ends at its head. Reports the first broken seq.',
  })
  @ApiQuery({ name: 'from_seq', required: false })
  @ApiQuery({ name: 'to_seq', required: false })
  @ApiOkResponse({ schema: VerifyResultOpenApi })
  verify(@Query(new ZodPipe(VerifyQuerySchema)) query: VerifyQuery): Promise<VerifyResult> {
    return this.verifyChain.execute(query.from_seq, query.to_seq);
  }

  @Get('export')
  @ApiOperation({ summary: 'Stream records as NDJSON, one audit record per line, in chain order' })
  @ApiProduces('application/x-ndjson')
  @FilterQueries()
  @ApiOkResponse({ description: 'One JSON audit record per line' })
  async export(
    @Query(new ZodPipe(ExportQuerySchema)) query: ExportQuery,
    @CurrentActor() actor: Actor,
    @Res() res: Response,
  ): Promise<void> {
    await this.exportRecords.streamTo(query, actor, res);
  }
}
