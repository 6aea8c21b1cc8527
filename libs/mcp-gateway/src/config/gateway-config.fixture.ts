/**
 * A gateway config text for specs: a valid `countersign:` section, the `servers:` given (indented
 * as map entries), then any other top-level sections.
 */
export function gatewayConfigText(servers: string, extra = ''): string {
  return `countersign:
  brokers: [127.0.0.1:9092]
  agent_id: desktop-agent
  tenant: acme
  requested_by: alice@acme.test
  execution_url: http://127.0.0.1:8083
  trusted_executor_keys: x
servers:
${servers}
${extra}`;
}
