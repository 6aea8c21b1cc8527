import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FactRefDto {
  @ApiProperty() event_id!: string;
  @ApiProperty() received_at!: string;
  @ApiPropertyOptional({ description: 'signed facts only: whether the signature verified', type: Boolean })
  signature_ok?: boolean;
}

export class JobFactsDto {
  @ApiProperty({ type: FactRefDto, nullable: true }) proposal!: FactRefDto | null;
  @ApiProperty({ type: FactRefDto, nullable: true }) decision!: FactRefDto | null;
  @ApiProperty({ type: FactRefDto, nullable: true }) resolution!: FactRefDto | null;
}

export class BlockDto {
  @ApiProperty({ example: 'HASH_MISMATCH' }) reason_code!: string;
  @ApiProperty() detail!: string;
  @ApiProperty({ type: String, nullable: true }) reason_text!: string | null;
}

export class ExecutionDto {
  @ApiProperty() executor!: string;
  @ApiProperty({ enum: ['http', 'kafka', 'release'] }) kind!: string;
  @ApiProperty({ enum: ['started', 'pending', 'released', 'succeeded', 'failed', 'unknown'] }) state!: string;
  @ApiProperty({ enum: ['SUCCEEDED', 'FAILED', 'UNKNOWN'], nullable: true, type: String }) status!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiPropertyOptional({ description: 'what the executor answered (SUCCEEDED only)' }) result?: unknown;
  @ApiProperty({ type: String, nullable: true }) grant_expires_at!: string | null;
}

export class JobTimestampsDto {
  @ApiProperty() first_seen_at!: string;
  @ApiProperty({ type: String, nullable: true }) proposed_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) decided_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) resolved_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) released_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) executing_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) executed_at!: string | null;
  @ApiProperty({ type: String, nullable: true }) blocked_at!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'when a waiting job is blocked INCOMPLETE' }) deadline_at!:
    string | null;
}

export class JobStateDto {
  @ApiProperty() job_id!: string;
  @ApiProperty({ type: String, nullable: true }) tenant!: string | null;
  @ApiProperty({
    enum: ['pending', 'proposed', 'decided', 'awaiting_approval', 'released', 'executing', 'executed', 'blocked'],
  })
  state!: string;
  @ApiProperty({ type: String, nullable: true, description: "the executor's own hash of the stored proposal" })
  job_hash!: string | null;
  @ApiProperty({ type: String, nullable: true }) decision!: string | null;
  @ApiProperty({ type: String, nullable: true }) policy_snapshot!: string | null;
  @ApiProperty({ type: String, nullable: true }) resolution!: string | null;
  @ApiProperty({ type: JobFactsDto }) facts!: JobFactsDto;
  @ApiProperty({ type: BlockDto, nullable: true }) block!: BlockDto | null;
  @ApiProperty({ type: ExecutionDto, nullable: true }) execution!: ExecutionDto | null;
  @ApiProperty({ type: JobTimestampsDto }) timestamps!: JobTimestampsDto;
  @ApiProperty({ description: 'facts that arrived after the outcome and were reported (report-only job.blocked)' })
  late_facts!: number;
}

export class ReportBodyDto {
  @ApiProperty({
    description: 'the job.released event exactly as received: the credential of the report',
    type: 'object',
    additionalProperties: true,
  })
  grant!: Record<string, unknown>;
  @ApiProperty({ enum: ['SUCCEEDED', 'FAILED'] }) status!: string;
  @ApiPropertyOptional({ description: 'JSON result of the agent function (SUCCEEDED)' }) result?: unknown;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'what went wrong (FAILED)' }) error?: string | null;
}

export class ReportAnswerDto {
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: ['SUCCEEDED', 'FAILED'] }) status!: string;
  @ApiProperty({ description: 'false when the same outcome had already been recorded' }) recorded!: boolean;
}
