import { ApiErrors, ApiJsonOk, ApiParamsFrom, CurrentActor, ZodPipe, type Actor } from '@countersign/service-kit';
import { snapshotNotFound } from './trail.errors';
import { sha256Hex } from '@countersign/crypto';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditorApi, tenantVisible } from '../auth/auditor.guard';
import { AuditRecordRepository } from '../records/audit-record.repository';
import { PolicySnapshotViewSchema, SnapshotIdParamSchema, type PolicySnapshotView } from './trail.schemas';

const ParamsSchema = z.object({
  id: SnapshotIdParamSchema.meta({ example: `cfg:system:policy#sha256:${'a'.repeat(64)}` }),
});

@ApiTags('audit')
@AuditorApi('INVALID_REQUEST (id)')
@Controller('api/v1/policy/snapshots')
export class PolicySnapshotsController {
  constructor(private readonly records: AuditRecordRepository) {}

  @Get(':id')
  @ApiOperation({
    summary: 'The policy document a snapshot id names, from its policy.activated record',
    description: 'URL-encode the id (it contains `#`).',
  })
  @ApiParamsFrom(ParamsSchema)
  @ApiJsonOk(PolicySnapshotViewSchema)
  @ApiErrors({ 404: 'SNAPSHOT_NOT_FOUND' })
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
      document: JSON.parse(s.document) as Record<string, unknown>,
      document_sha256: digest,
      matches_snapshot_id: s.snapshot_id === `cfg:${s.scope}:policy#sha256:${digest}`,
    };
  }
}
