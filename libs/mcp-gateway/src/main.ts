#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Countersign } from '@countersign/agent-sdk';
import { PolicyError } from '@countersign/policy';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { KafkaConfig, LogEntry } from 'kafkajs';
import pino from 'pino';
import { GatewayConfigError } from './config/gateway-config.error';
import { loadGatewayConfig, type ResolvedGatewayConfig } from './config/load-gateway-config';
import { httpJobStateReader, JOB_STATE_TOKEN_ENV } from './countersign/job-state.reader';
import { McpGateway } from './mcp-gateway';
import { loadPolicyPreviewer } from './routing/policy-preview';
import { durationText } from './gated-call/duration-text';

const USAGE = `Usage: countersign-mcp-gateway --config <gateway.yaml> [--check]

An MCP server (stdio) in front of the MCP servers named in the config: every tool call is a
Countersign job and reaches the upstream only once the gate released exactly its arguments.

  -c, --config <file>  the gateway configuration (default: $COUNTERSIGN_MCP_CONFIG)
      --check          validate the config, connect the upstream servers, print how each tool
                       is routed, and exit
  -h, --help           this text

Environment: COUNTERSIGN_JOB_STATE_TOKEN, a bearer token with the operator or auditor role, lets
progress messages show where a job stands (execution-binding's job state API needs one).
`;

// stdout carries MCP messages: every log line goes to stderr.
const log = pino(
  { name: 'mcp-gateway', level: process.env['LOG_LEVEL'] ?? 'info', timestamp: pino.stdTimeFunctions.isoTime },
  pino.destination(2),
);

function kafkaLogs(): Partial<KafkaConfig> {
  const kafkaLog = log.child({ component: 'kafkajs' });
  return {
    logCreator:
      () =>
      ({ level, log: { message, ...rest } }: LogEntry) => {
        if (level <= 2) kafkaLog[level <= 1 ? 'error' : 'warn'](rest, message);
      },
  };
}

function printRoutes(gateway: McpGateway): void {
  const lines = gateway.tools().map((e) => {
    const preview = e.preview ? ` -> ${e.preview.decision} (${e.preview.ruleId})` : '';
    const flags = [e.route.mapped ? '' : 'unmapped', e.hidden ? 'hidden' : ''].filter(Boolean).join(', ');
    return `${e.name}: ${e.route.topic} [${e.route.riskTags.join(', ')}]${preview}, waits up to ${durationText(e.waitMs)}${flags ? ` (${flags})` : ''}`;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(argv: string[]): Promise<number> {
  let args: { config?: string | undefined; check?: boolean | undefined; help?: boolean | undefined };
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const file = args.config ?? process.env['COUNTERSIGN_MCP_CONFIG'];
  if (!file) {
    process.stderr.write(`--config is required\n\n${USAGE}`);
    return 2;
  }

  let config: ResolvedGatewayConfig;
  let gateway: McpGateway;
  let gate: Countersign;
  try {
    config = loadGatewayConfig(file);
    const identity = { tenant: config.countersign.tenant, agentId: config.countersign.agent_id };
    const previewer = config.approval.policy_dir
      ? loadPolicyPreviewer(config.approval.policy_dir, identity)
      : undefined;
    gate = new Countersign({
      brokers: config.countersign.brokers,
      agentId: config.countersign.agent_id,
      tenant: config.countersign.tenant,
      executionUrl: config.countersign.execution_url,
      trustedExecutorKeys: config.trustedExecutorKeys,
      ...(config.countersign.client_id ? { clientId: config.countersign.client_id } : {}),
      kafka: { ...kafkaLogs(), ...(config.countersign.kafka as Partial<KafkaConfig> | undefined) },
      defaultTimeoutMs: config.approval.timeout,
    });
    const jobState = httpJobStateReader(config.countersign.execution_url, { token: process.env[JOB_STATE_TOKEN_ENV] });
    gateway = new McpGateway(config, {
      gate,
      log,
      ...(jobState ? { jobState } : {}),
      ...(previewer ? { previewer } : {}),
    });
  } catch (e) {
    if (e instanceof GatewayConfigError || e instanceof PolicyError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }

  try {
    await gateway.start();
  } catch (e) {
    process.stderr.write(`countersign-mcp-gateway: ${(e as Error).message}\n`);
    await gateway.close();
    return 1;
  }
  if (args.check) {
    printRoutes(gateway);
    await gateway.close();
    return 0;
  }

  let closing: Promise<void> | undefined;
  const shutdown = (why: string) => {
    closing ??= (async () => {
      log.info({ why }, 'shutting down');
      await gateway.close();
      await gate.close();
    })();
    return closing;
  };
  const transport = new StdioServerTransport();
  transport.onclose = () => void shutdown('client closed the connection').then(() => process.exit(0));
  process.stdin.on('end', () => void shutdown('stdin closed').then(() => process.exit(0)));
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void shutdown(signal).then(() => process.exit(0)));
  await gateway.connect(transport);
  log.info(
    {
      servers: Object.keys(config.servers),
      tools: gateway.tools().length,
      tenant: config.countersign.tenant,
      agent_id: config.countersign.agent_id,
    },
    'MCP gateway serving on stdio',
  );
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`countersign-mcp-gateway: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
