import { topicMatcher, type RoutedExecutor } from '../../config/executors.config';
import { hostAllowed, planExecution } from './plan-execution';

const retry = { max_attempts: 5, initial_backoff_ms: 500, max_backoff_ms: 60_000 };
const http = (name: string, match: string[], url: string): RoutedExecutor => ({
  name,
  kind: 'http',
  match,
  url,
  secret_env: 'S',
  idempotent: false,
  timeout_sec: 30,
  retry,
  matches: topicMatcher(match),
});
const release = (name: string, match: string[]): RoutedExecutor => ({
  name,
  kind: 'release',
  match,
  grant_ttl_sec: 900,
  idempotent: false,
  timeout_sec: 30,
  retry,
  matches: topicMatcher(match),
});

describe('planExecution', () => {
  const executors = [http('deploy', ['job.deploy.*'], 'https://deploy.example.com/x'), release('agent', ['job.**'])];

  it('picks the first executor whose glob matches', () => {
    expect(planExecution('job.deploy.rollout', {}, executors)).toMatchObject({
      action: 'run',
      executor: { name: 'deploy' },
      timeoutMs: 30_000,
    });
    expect(planExecution('job.deploy.rollout.canary', {}, executors)).toMatchObject({
      action: 'run',
      executor: { name: 'agent' },
    });
  });

  it('blocks NO_EXECUTOR when nothing matches', () => {
    expect(planExecution('ops.restart', {}, executors)).toMatchObject({ action: 'block', reason: 'NO_EXECUTOR' });
  });

  it('lets max_runtime_sec shorten the timeout, never lengthen it', () => {
    expect(planExecution('job.deploy.x', { max_runtime_sec: 5 }, executors)).toMatchObject({ timeoutMs: 5000 });
    expect(planExecution('job.deploy.x', { max_runtime_sec: 500 }, executors)).toMatchObject({ timeoutMs: 30_000 });
  });

  it('blocks CONSTRAINT_VIOLATION when the http target is outside the allowlist', () => {
    const sut = planExecution('job.deploy.x', { network_allowlist: ['api.example.com'] }, executors);
    expect(sut).toMatchObject({
      action: 'block',
      reason: 'CONSTRAINT_VIOLATION',
      detail: expect.stringContaining('deploy.example.com'),
    });
  });

  it('runs an http target inside the allowlist', () => {
    expect(planExecution('job.deploy.x', { network_allowlist: ['*.example.com'] }, executors).action).toBe('run');
  });

  it('passes an allowlist through to a release executor (the agent holds the network)', () => {
    expect(planExecution('job.other', { network_allowlist: ['x.test'] }, executors).action).toBe('run');
  });
});

describe('hostAllowed', () => {
  it.each([
    ['http://api.example.com/x', ['api.example.com'], true],
    ['http://API.example.com./x', ['api.example.com'], true],
    ['http://api.example.com:8443/x', ['api.example.com'], true],
    ['http://api.example.com:8443/x', ['api.example.com:8443'], true],
    ['http://api.example.com:8443/x', ['api.example.com:443'], false],
    ['https://api.example.com/x', ['api.example.com:443'], true],
    ['http://a.b.example.com/x', ['*.example.com'], true],
    ['http://example.com/x', ['*.example.com'], false],
    ['http://evil-example.com/x', ['*.example.com'], false],
    ['http://example.com.evil.test/x', ['example.com'], false],
    ['http://127.0.0.1:9000/x', ['127.0.0.1'], true],
    ['http://[::1]:9000/x', ['::1'], true],
    ['http://[::1]:9000/x', ['[::1]:9000'], true],
    ['http://127.0.0.1/x', [], false],
  ])('%s in %j -> %s', (url, list, expected) => {
    expect(hostAllowed(new URL(url), list)).toBe(expected);
  });
});
