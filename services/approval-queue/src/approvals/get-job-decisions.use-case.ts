import { Inject, Injectable } from '@nestjs/common';
import { decisionNotFound, tenantNotAllowed } from './approval.errors';
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
    if (!item || item.decisionEventId === null || item.tenant === null) throw decisionNotFound(jobId);
    if (!tenantAllowed(reviewer, item.tenant)) throw tenantNotAllowed(item.tenant);
    const actions = (await this.repo.actionsFor([jobId])).get(jobId) ?? [];
    return jobDecisions(item, actions);
  }
}
