import { CodedError } from '@countersign/contracts';
import { Inject, Injectable } from '@nestjs/common';
import type { JobDecisions } from './approval.schemas';
import { tenantAllowed, type Reviewer } from './core/approval-state';
import { jobDecisions } from './core/approval-view';
import type { ApprovalsStore } from './approvals.port';
import { ApprovalsRepository } from './approvals.repository';

/** The policy decision of a job and every approval action on it, for anyone whose token covers its tenant. */
@Injectable()
export class GetJobDecisionsUseCase {
  constructor(@Inject(ApprovalsRepository) private readonly repo: ApprovalsStore) {}

  async execute(reviewer: Reviewer, jobId: string): Promise<JobDecisions> {
    const item = await this.repo.find(jobId);
    if (!item || item.decisionEventId === null || item.tenant === null)
      throw new CodedError('NOT_FOUND', `no decision recorded for job ${jobId}`, 404);
    if (!tenantAllowed(reviewer, item.tenant))
      throw new CodedError('TENANT_NOT_ALLOWED', `your token does not cover tenant ${item.tenant}`, 403);
    const actions = (await this.repo.actionsFor([jobId])).get(jobId) ?? [];
    return jobDecisions(item, actions);
  }
}
