import { ActionTopicSchema, AgentIdSchema, IdSchema, RiskTagSchema } from '@countersign/contracts';
import { parseDuration } from '@countersign/policy';
import { z } from 'zod';

/** `30s`, `15m`, `1h`, `2d` (the policy files' format), to milliseconds. */
const DurationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== null, 'a duration like 30s, 15m, 1h or 2d')
  .transform((s) => (parseDuration(s) ?? 0) * 1000);

/** Server names become a topic segment (`mcp.<server>.<tool>`) and a tool-name prefix. */
export const ServerNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'letters, digits, _ and - only (at most 64), starting with a letter or digit',
  );

/** Flat globs on upstream tool names: `*` is any run of characters, everything else is literal. */
const ToolGlobSchema = z.string().min(1).max(128);

export const ToolRuleSchema = z
  .object({
    match: z
      .union([ToolGlobSchema, z.array(ToolGlobSchema).min(1)])
      .transform((m) => (typeof m === 'string' ? [m] : m)),
    topic: ActionTopicSchema,
    risk_tags: z.array(RiskTagSchema).max(32).default([]),
    /** How long a call waits for its approval; default: the policy's SLA (with policy_dir) or approval.timeout. */
    timeout: DurationSchema.optional(),
  })
  .strict();
export type ToolRule = z.infer<typeof ToolRuleSchema>;

const StringMapSchema = z.record(z.string(), z.string());

export const UpstreamSchema = z
  .object({
    /** stdio: the command that starts the upstream server. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: StringMapSchema.optional(),
    cwd: z.string().min(1).optional(),
    /** Streamable HTTP: the upstream's MCP endpoint. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    headers: StringMapSchema.optional(),
    /** Upper bound of one upstream tools/call once released (the MCP SDK's default would be 60s). */
    call_timeout: DurationSchema.default(5 * 60_000),
    /** Mappings of this server's tools to Countersign topics: the first rule whose `match` fits wins. */
    tools: z.array(ToolRuleSchema).default([]),
  })
  .strict()
  .superRefine((s, ctx) => {
    if ((s.command === undefined) === (s.url === undefined))
      ctx.addIssue({ code: 'custom', message: 'set exactly one of `command` (stdio) or `url` (streamable HTTP)' });
    if (s.url !== undefined && (s.args.length > 0 || s.env || s.cwd))
      ctx.addIssue({ code: 'custom', message: '`args`, `env` and `cwd` are for stdio servers (`command`)' });
    if (s.command !== undefined && s.headers)
      ctx.addIssue({ code: 'custom', path: ['headers'], message: '`headers` are for HTTP servers (`url`)' });
  });
export type UpstreamConfig = z.infer<typeof UpstreamSchema>;

export const UNMAPPED_TOPIC_TEMPLATE = 'mcp.{server}.{tool}';

export const GatewayConfigSchema = z
  .object({
    countersign: z
      .object({
        brokers: z
          .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
            error: 'Kafka bootstrap brokers: a list of host:port, or one comma-separated string',
          })
          .transform((b) => (typeof b === 'string' ? b.split(',').map((s) => s.trim()) : b)),
        agent_id: AgentIdSchema,
        tenant: IdSchema,
        /** The human or service the agent acts for: they cannot approve its calls. */
        requested_by: IdSchema,
        /** execution-binding's base URL: the gateway reports outcomes there and shows the job's state. */
        execution_url: z.url({ protocol: /^https?$/ }),
        /** execution-binding's public key(s), PEM, inline or in a file (relative to this config file). */
        trusted_executor_keys: z.string().min(1).optional(),
        trusted_executor_keys_file: z.string().min(1).optional(),
        client_id: IdSchema.optional(),
        /** Extra kafkajs settings passed to the SDK as they are (`ssl`, `sasl`, ...); `${VAR}` is expanded. */
        kafka: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .refine((c) => (c.trusted_executor_keys === undefined) !== (c.trusted_executor_keys_file === undefined), {
        message: 'set exactly one of `trusted_executor_keys` (PEM) or `trusted_executor_keys_file`',
      }),
    approval: z
      .object({
        /** Default wait of a gated call: cover the longest approval SLA of the tools behind the gateway. */
        timeout: DurationSchema.default(60 * 60_000),
        /** How often a waiting call sends an MCP progress notification (when the client asked for progress). */
        progress_interval: DurationSchema.default(5_000),
        /** A copy of the policy directory: used only to preview decisions (SLA-based waits, hidden or annotated tools). */
        policy_dir: z.string().min(1).optional(),
        /** Leave out of tools/list the tools the previewed policy always denies (needs policy_dir). */
        hide_denied_tools: z.boolean().default(false),
        /** Say in each tool's description what the previewed policy does with it (needs policy_dir). */
        annotate_tools: z.boolean().default(true),
      })
      .strict()
      .default({ timeout: 60 * 60_000, progress_interval: 5_000, hide_denied_tools: false, annotate_tools: true })
      .refine((a) => !a.hide_denied_tools || a.policy_dir !== undefined, {
        path: ['hide_denied_tools'],
        message: 'needs `policy_dir`: the gateway must know what the policy denies',
      }),
    /** `auto`: `<server>__<tool>` when there are several servers, the plain tool name with one. */
    tool_names: z.enum(['auto', 'prefixed', 'plain']).default('auto'),
    /** Tools no rule maps: a topic of their own and a risk tag the policy gates (fail closed). */
    unmapped: z
      .object({
        topic: z.string().min(1).default(UNMAPPED_TOPIC_TEMPLATE),
        risk_tags: z.array(RiskTagSchema).max(32).default(['unmapped']),
      })
      .strict()
      .default({ topic: UNMAPPED_TOPIC_TEMPLATE, risk_tags: ['unmapped'] })
      .refine(
        (u) => ActionTopicSchema.safeParse(u.topic.replaceAll('{server}', 's').replaceAll('{tool}', 't')).success,
        {
          path: ['topic'],
          message: 'dot-separated segments of letters, digits, _ and -, with {server} and {tool} placeholders',
        },
      ),
    servers: z.record(z.string(), UpstreamSchema).superRefine((servers, ctx) => {
      if (Object.keys(servers).length === 0) ctx.addIssue({ code: 'custom', message: 'at least one upstream server' });
      for (const name of Object.keys(servers)) {
        const r = ServerNameSchema.safeParse(name);
        if (!r.success)
          ctx.addIssue({ code: 'custom', path: [name], message: r.error.issues[0]?.message ?? 'invalid name' });
      }
    }),
  })
  .strict();

export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
