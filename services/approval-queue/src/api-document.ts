import { buildOpenApiDocument } from '@countersign/service-kit';
import type { OpenAPIObject } from '@nestjs/swagger';
import { ApprovalsController } from './approvals/approvals.controller';
import { ApprovalStatsController } from './stats/approval-stats.controller';
import { UiConfigController } from './ui-config/ui-config.controller';

export const API_TITLE = 'Countersign approval queue';
export const API_DESCRIPTION = 'The reviewers queue: pending approvals, approve and reject, stats.';

/**
 * The OpenAPI document the service serves at `/api/docs/openapi.json`, built without starting it
 * (scripts/api-types.cjs generates the reviewers' page types from it).
 */
export function buildApiDocument(): Promise<OpenAPIObject> {
  return buildOpenApiDocument({
    title: API_TITLE,
    description: API_DESCRIPTION,
    controllers: [ApprovalsController, ApprovalStatsController, UiConfigController],
  });
}
