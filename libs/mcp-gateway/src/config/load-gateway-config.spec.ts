import { GatewayConfigError } from './gateway-config.error';
import { parseGatewayConfig } from './load-gateway-config';

const VALID = `
countersign:
  brokers: 127.0.0.1:9092,127.0.0.1:9093
  agent_id: desktop-agent
  tenant: acme
  requested_by: alice@acme.test
  execution_url: http://127.0.0.1:8083
  trusted_executor_keys_file: keys/execution-binding.pub
servers:
  repo:
    command: node
    args: [repo-server.js]
    env: { TOKEN: '\${REPO_TOKEN}' }
    tools:
      - match: read_*
        topic: job.fs.read
      - match: [delete_branch, force_push]
        topic: job.deploy.delete
        risk_tags: [prod, write]
        timeout: 45m
  search:
    url: https://mcp.example.test/mcp
    headers: { Authorization: 'Bearer \${SEARCH_TOKEN}' }
`;

function issuesOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseGatewayConfig(text, 'gateway.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayConfigError);
    return [...(e as GatewayConfigError).issues];
  }
  throw new Error('expected the config to be refused');
}

describe('parseGatewayConfig', () => {
  const env = { REPO_TOKEN: 'r-123', SEARCH_TOKEN: 's-456' };

  it('reads a valid config and fills in the defaults', () => {
    const sut = parseGatewayConfig(VALID, 'gateway.yaml', env);
    expect(sut.countersign.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(sut.approval).toEqual({
      timeout: 3_600_000,
      progress_interval: 5_000,
      hide_denied_tools: false,
      annotate_tools: true,
    });
    expect(sut.unmapped).toEqual({ topic: 'mcp.{server}.{tool}', risk_tags: ['unmapped'] });
    expect(sut.tool_names).toBe('auto');
    expect(sut.servers['repo']?.tools[0]).toEqual({ match: ['read_*'], topic: 'job.fs.read', risk_tags: [] });
    expect(sut.servers['repo']?.tools[1]?.timeout).toBe(45 * 60_000);
    expect(sut.servers['repo']?.call_timeout).toBe(5 * 60_000);
  });

  it('takes a workload identity as agent_id, and refuses one that poses as a path it is not', () => {
    const spiffe = 'spiffe://acme.example/ns/desktop/sa/alice';
    const sut = parseGatewayConfig(
      VALID.replace('agent_id: desktop-agent', `agent_id: '${spiffe}'`),
      'gateway.yaml',
      env,
    );
    expect(sut.countersign.agent_id).toBe(spiffe);
    expect(
      issuesOf(VALID.replace('agent_id: desktop-agent', "agent_id: 'fleet-a/../fleet-b'"), env).join('\n'),
    ).toMatch(/agent_id/);
  });

  it('expands ${VAR} in env and headers from the environment', () => {
    const sut = parseGatewayConfig(VALID, 'gateway.yaml', env);
    expect(sut.servers['repo']?.env).toEqual({ TOKEN: 'r-123' });
    expect(sut.servers['search']?.headers).toEqual({ Authorization: 'Bearer s-456' });
  });

  it('names a variable that is not set instead of sending an empty secret', () => {
    expect(issuesOf(VALID, { REPO_TOKEN: 'x' })).toEqual([
      'servers.search.headers.Authorization: environment variable SEARCH_TOKEN is not set',
    ]);
  });

  it('names every invalid field by its path', () => {
    const bad = VALID.replace('topic: job.fs.read', 'topic: job.fs.*')
      .replace('timeout: 45m', 'timeout: 45 minutes')
      .replace('url: https://mcp.example.test/mcp', 'url: https://mcp.example.test/mcp\n    command: node');
    const issues = issuesOf(bad, env);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^servers\.repo\.tools\.0\.topic: dot-separated segments/),
        expect.stringMatching(/^servers\.repo\.tools\.1\.timeout: a duration like 30s/),
        expect.stringMatching(/^servers\.search: set exactly one of `command` \(stdio\) or `url`/),
      ]),
    );
  });

  it('refuses unknown keys, a bad server name, and hide_denied_tools without a policy', () => {
    const issues = issuesOf(
      `${VALID.replace('  search:', '  "bad name":')}\napproval: { hide_denied_tools: true, sla: 5m }\n`,
      env,
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^servers\.bad name: letters, digits, _ and -/),
        expect.stringMatching(/^approval: Unrecognized key: "sla"/),
      ]),
    );
    expect(issuesOf(`${VALID}\napproval: { hide_denied_tools: true }\n`, env)).toEqual([
      'approval.hide_denied_tools: needs `policy_dir`: the gateway must know what the policy denies',
    ]);
  });

  it('needs exactly one source of the executor key, and a valid unmapped topic', () => {
    expect(issuesOf(VALID.replace('  trusted_executor_keys_file: keys/execution-binding.pub\n', ''), env)).toEqual([
      'countersign: set exactly one of `trusted_executor_keys` (PEM) or `trusted_executor_keys_file`',
    ]);
    expect(issuesOf(`${VALID}\nunmapped: { topic: 'mcp/{tool}' }\n`, env)).toEqual([
      'unmapped.topic: dot-separated segments of letters, digits, _ and -, with {server} and {tool} placeholders',
    ]);
  });

  it('says so when the file is not YAML or is empty', () => {
    expect(issuesOf('countersign: [')[0]).toMatch(/^not valid YAML/);
    expect(issuesOf('')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^countersign: /), expect.stringMatching(/^servers: /)]),
    );
  });
});
