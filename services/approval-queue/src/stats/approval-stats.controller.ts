import { ApiJsonOk, ApiQueryFrom, Authenticated, CurrentActor, ZodPipe, type Actor } from '@countersign/service-kit';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApprovalStatsSchema, StatsQuerySchema, type ApprovalStats } from './approval-stats.schemas';
import { GetApprovalStatsQuery } from './get-approval-stats.query';

@ApiTags('approvals')
@Authenticated({ errors: { 400: 'INVALID_REQUEST', 401: 'UNAUTHENTICATED' } })
@Controller('api/v1/approvals')
export class ApprovalStatsController {
  constructor(private readonly stats: GetApprovalStatsQuery) {}

  @Get('stats')
  @ApiOperation({
    summary: 'Queue statistics',
    description:
      'Median and p90 time to decision (APPROVED and REJECTED; EXPIRED counts as an SLA breach), resolutions, top rejection reasons, ' +
      'per policy rule and per tier (tier = the sorted risk tags). Limited to the token tenants if it has any.',
  })
  @ApiQueryFrom(StatsQuerySchema)
  @ApiJsonOk(ApprovalStatsSchema)
  get(
    @CurrentActor() actor: Actor,
    @Query(new ZodPipe(StatsQuerySchema)) query: { window: string },
  ): Promise<ApprovalStats> {
    return this.stats.execute(actor, query.window);
  }
}
