import { BearerAuthGuard, CurrentActor, ZodPipe, type Actor } from '@countersign/bus';
import { snapshotNotFound } from './trail.errors';
import { sha256Hex } from '@countersign/crypto';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditorGuard, tenantVisible } from '../auth/auditor.guard';
import { AuditRecordRepository } from '../records/audit-record.repository';
import { ErrorOpenApi, PolicySnapshotOpenApi } from './trail.openapi';
import { SnapshotIdParamSchema } from './trail-query.schemas';

const ParamsSchema = z.object({ id: SnapshotIdParamSchema });

export interface PolicySnapshotView {
  snapshot_id: string;
  scope: string;
  activated_at: string;
  record_seq: number;
  document: unknown;
  document_sha256: string;
  matches_snapshot_id: boolean;
}

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard, AuditorGuard)
@Controller('api/v1/policy/snapshots')
export class PolicySnapshotsController {
  constructor(private readonly records: AuditRecordRepository) {}

  @Get(':id')
  @ApiOperation({
    summary: 'The policy document a snapshot id names, from its policy.activated record',
    description: 'URL-encode the id (it contains `#`).',
  })
  @ApiParam({ name: 'id', example: `cfg:system:policy#sha256:${'a'.repeat(64)}` })
  @ApiOkResponse({ schema: PolicySnapshotOpenApi })
  @ApiNotFoundResponse({ description: 'SNAPSHOT_NOT_FOUND', schema: ErrorOpenApi })
  async get(
    @Param(new ZodPipe(ParamsSchema)) params: z.infer<typeof ParamsSchema>,
    @CurrentActor() actor: Actor,
  ): Promise<PolicySnapshotView> {
    const s = await this.records.snapshot(params.id);
    const tenant = s?.scope.startsWith('tenant:') ? s.scope.slice('tenant:'.length) : null;
    // System policy decided every tenant's jobs, so every auditor may read it; a tenant's policy only its auditors.
    if (!s || (tenant !== null && !tenantVisible(actor, tenant))) {
      throw snapshotNotFound(params.id);
    }
    const digest = sha256Hex(s.document);
    return {
      snapshot_id: s.snapshot_id,
      scope: s.scope,
      activated_at: s.activated_at.toISOString(),
      record_seq: s.record_seq,
      document: JSON.parse(s.document) as unknown,
      document_sha256: digest,
      matches_snapshot_id: s.snapshot_id === `cfg:${s.scope}:policy#sha256:${digest}`,
    };
  }
}
