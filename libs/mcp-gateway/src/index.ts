export { McpGateway, type McpGatewayDeps } from './mcp-gateway';
export {
  GatewayConfigSchema,
  type GatewayConfig,
  type GatewayConfigInput,
  type ToolRule,
  type UpstreamConfig,
} from './config/gateway-config.schema';
export { GatewayConfigError } from './config/gateway-config.error';
export { loadGatewayConfig, parseGatewayConfig, type ResolvedGatewayConfig } from './config/load-gateway-config';
export {
  CallGatedToolUseCase,
  auditedResult,
  type GateRunner,
  type GatedCallCommand,
  type GatedCallContext,
  type JobStateReader,
  type ProposedCall,
  type UpstreamCaller,
} from './gated-call/call-gated-tool.use-case';
export { explainGateError, toolError, META_CODE, META_JOB_ID } from './gated-call/explain-gate-error';
export { frozenJsonCopy, type DeepReadonly } from './gated-call/frozen-json';
export { ToolRouter, exposedToolName, topicSegment, type ToolRoute } from './routing/tool-route';
export { ToolCatalogue, type CatalogueEntry } from './routing/tool-catalogue';
export {
  loadPolicyPreviewer,
  policyPreviewer,
  type PolicyPreview,
  type PolicyPreviewer,
} from './routing/policy-preview';
export { httpJobStateReader, JOB_STATE_TOKEN_ENV } from './countersign/job-state.reader';
export { UpstreamServer, defaultTransport, type TransportFactory } from './upstream/upstream-server';
export type { GatewayLogger } from './gateway-logger';
