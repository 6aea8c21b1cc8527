import { ApiErrors, ApiJsonBody, ApiJsonOk, ApiParamsFrom, OperatorApi, ZodPipe } from '@countersign/service-kit';
import { IdSchema } from '@countersign/contracts';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ReportOutcomeUseCase,
  ReportBodySchema,
  type ReportAnswer,
  type ReportBody,
} from '../execution/report-outcome.use-case';
import { GetJobStateQuery } from './get-job-state.query';
import { JobParamsSchema, JobStateSchema, ReportAnswerSchema, type JobState } from './jobs.schemas';

@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly getJobState: GetJobStateQuery,
    private readonly reportOutcome: ReportOutcomeUseCase,
  ) {}

  @Get(':job_id/state')
  @OperatorApi()
  @ApiOperation({
    summary: 'Where a job stands in the binding state machine',
    description:
      'pending | proposed | decided | awaiting_approval | released | executing | executed | blocked (with the reason), with the facts received and their timestamps. Needs a bearer token with the operator or auditor role (it shows executor results and block reasons); agents read their own outcomes through the SDK.',
  })
  @ApiParamsFrom(JobParamsSchema)
  @ApiJsonOk(JobStateSchema)
  @ApiErrors({
    400: 'INVALID_REQUEST (job_id)',
    401: 'UNAUTHENTICATED',
    403: 'ROLE_NOT_ALLOWED (needs operator or auditor)',
    404: 'JOB_NOT_FOUND',
  })
  state(@Param('job_id', new ZodPipe(IdSchema)) jobId: string): Promise<JobState> {
    return this.getJobState.execute(jobId);
  }

  @Post(':job_id/report')
  @HttpCode(200)
  @ApiOperation({
    summary: "The agent's report of a released job it ran",
    description:
      "Authenticated by the grant itself: the job.released event, which must carry execution-binding's signature and be the grant issued for this job. The first report becomes job.executed; the same report again answers recorded=false; a different one 409 ALREADY_REPORTED.",
  })
  @ApiParamsFrom(JobParamsSchema)
  @ApiJsonBody(ReportBodySchema)
  @ApiJsonOk(ReportAnswerSchema)
  @ApiErrors({
    400: 'INVALID_REQUEST, or INVALID_GRANT: the grant is not a job.released event',
    403: 'INVALID_GRANT or GRANT_MISMATCH',
    409: 'NOT_RELEASED or ALREADY_REPORTED',
  })
  report(
    @Param('job_id', new ZodPipe(IdSchema)) jobId: string,
    @Body(new ZodPipe(ReportBodySchema)) body: ReportBody,
  ): Promise<ReportAnswer> {
    return this.reportOutcome.execute(jobId, body);
  }
}
