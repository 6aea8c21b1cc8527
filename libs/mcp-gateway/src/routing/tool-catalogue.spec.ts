import { compilePolicySet, createPolicySet, parsePolicy } from '@countersign/policy';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { gatewayConfigText } from '../config/gateway-config.fixture';
import { parseGatewayConfig } from '../config/load-gateway-config';
import { SLA_GRACE_MS, policyPreviewer } from './policy-preview';
import { ToolCatalogue, ToolNameCollisionError } from './tool-catalogue';
import { ToolRouter, exposedToolName, prefixesToolNames, topicSegment } from './tool-route';

const config = (servers: string, extra = '') => parseGatewayConfig(gatewayConfigText(servers, extra), 'test.yaml');

const REPO = `  repo:
    command: node
    tools:
      - { match: read_*, topic: job.fs.read }
      - { match: '*_branch', topic: job.deploy.delete, risk_tags: [prod, write] }
      - { match: delete_*, topic: job.fs.delete, risk_tags: [write] }
      - { match: quick_*, topic: job.quick.thing, timeout: 90s }`;

const POLICY = compilePolicySet(
  createPolicySet(
    parsePolicy(
      `version: v1
rules:
  - { id: allow-read, match: { topics: ['job.*.read'] }, decision: allow }
  - id: prod-write-gate
    match: { risk_tags: [prod, write], topics: ['job.deploy.*'] }
    decision: require_approval
    reason: Production writes require human approval
    approval: { approver_roles: [service-owner], sla: 30m }
  - { id: no-unmapped, match: { risk_tags: [unmapped] }, decision: deny, reason: Unmapped MCP tools are not allowed }
`,
      'system.yaml',
    ),
  ),
);

const tool = (name: string, description?: string): Tool => ({
  name,
  ...(description ? { description } : {}),
  inputSchema: { type: 'object', properties: { path: { type: 'string' } } },
});

describe('ToolRouter', () => {
  const sut = new ToolRouter(config(REPO));

  it('maps a tool with the first rule whose glob fits its name', () => {
    expect(sut.route('repo', 'read_file')).toEqual({
      server: 'repo',
      tool: 'read_file',
      topic: 'job.fs.read',
      riskTags: [],
      mapped: true,
    });
    // delete_branch fits both `*_branch` and `delete_*`: the first rule wins.
    expect(sut.route('repo', 'delete_branch')).toMatchObject({
      topic: 'job.deploy.delete',
      riskTags: ['prod', 'write'],
    });
    expect(sut.route('repo', 'delete_file')).toMatchObject({ topic: 'job.fs.delete', riskTags: ['write'] });
    expect(sut.route('repo', 'quick_fix')).toMatchObject({ timeoutMs: 90_000 });
  });

  it('fails closed for a tool no rule maps: its own topic and the unmapped risk tag', () => {
    expect(sut.route('repo', 'git.push/force')).toEqual({
      server: 'repo',
      tool: 'git.push/force',
      topic: 'mcp.repo.git_push_force',
      riskTags: ['unmapped'],
      mapped: false,
    });
    expect(topicSegment('a.b/c d')).toBe('a_b_c_d');
  });

  it('uses a configured unmapped topic and tags', () => {
    const custom = new ToolRouter(
      config(REPO, `unmapped: { topic: 'agent.mcp.{server}.{tool}', risk_tags: [unmapped, prod] }`),
    );
    expect(custom.route('repo', 'rm')).toMatchObject({ topic: 'agent.mcp.repo.rm', riskTags: ['unmapped', 'prod'] });
  });

  it('prefixes tool names with the server when there are several servers (auto)', () => {
    expect(prefixesToolNames(config(REPO))).toBe(false);
    expect(prefixesToolNames(config(`${REPO}\n  other: { url: 'http://x.test/mcp' }`))).toBe(true);
    expect(prefixesToolNames(config(REPO, 'tool_names: prefixed'))).toBe(true);
    expect(exposedToolName('repo', 'read_file', true)).toBe('repo__read_file');
  });
});

describe('ToolCatalogue', () => {
  const cfg = config(REPO);
  const lists = new Map([
    ['repo', [tool('read_file', 'Reads a file'), tool('delete_branch', 'Deletes a branch'), tool('whoami')]],
  ]);
  const base = {
    router: new ToolRouter(cfg),
    prefixed: false,
    defaultWaitMs: 3_600_000,
    hideDenied: false,
    annotate: true,
  };

  it('passes tools through unchanged without a policy preview', () => {
    const sut = ToolCatalogue.build(lists, base);
    expect(sut.visibleTools()).toEqual(lists.get('repo'));
    expect(sut.get('delete_branch')?.waitMs).toBe(3_600_000);
  });

  it('sizes the wait to the policy SLA, annotates gated tools and can hide what is always denied', () => {
    const previewer = policyPreviewer(POLICY, { tenant: 'acme', agentId: 'desktop-agent' });
    const sut = ToolCatalogue.build(lists, { ...base, previewer, hideDenied: true });
    expect(sut.get('read_file')?.preview).toMatchObject({ decision: 'ALLOW', ruleId: 'allow-read' });
    expect(sut.get('read_file')?.tool.description).toBe('Reads a file');
    expect(sut.get('delete_branch')).toMatchObject({
      waitMs: 30 * 60_000 + SLA_GRACE_MS,
      preview: { decision: 'REQUIRE_APPROVAL', ruleId: 'prod-write-gate' },
    });
    expect(sut.get('delete_branch')?.tool.description).toBe(
      'Deletes a branch\n\nCountersign: each call waits for human approval (Production writes require human approval; up to 30m).',
    );
    // Hidden from tools/list, still routable: policy-decision, not the preview, has the last word.
    expect(sut.get('whoami')).toMatchObject({ hidden: true, preview: { decision: 'DENY' } });
    expect(sut.visibleTools().map((t) => t.name)).toEqual(['read_file', 'delete_branch']);
  });

  it('refuses two tools under one name', () => {
    const two = new Map([
      ['repo', [tool('search')]],
      ['web', [tool('search')]],
    ]);
    expect(() => ToolCatalogue.build(two, base)).toThrow(ToolNameCollisionError);
    const prefixed = ToolCatalogue.build(two, { ...base, prefixed: true });
    expect(prefixed.visibleTools().map((t) => t.name)).toEqual(['repo__search', 'web__search']);
    expect(prefixed.get('web__search')?.route).toMatchObject({
      server: 'web',
      tool: 'search',
      topic: 'mcp.web.search',
    });
  });
});
