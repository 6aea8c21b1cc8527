import { EVENT_TOPICS, ALL_TOPICS, dlqTopic, parseEvent, EventSchemas, type Topic } from './index';
import { exampleEvents } from './fixtures';

describe('event contracts', () => {
  it.each(EVENT_TOPICS.map((t) => [t]))('%s: the example survives a JSON round trip unchanged', (topic: Topic) => {
    const example = exampleEvents[topic];
    const r = parseEvent(topic, Buffer.from(JSON.stringify(example)));
    expect(r).toEqual({ ok: true, event: example });
  });

  it('has an example and a schema for every topic', () => {
    expect(Object.keys(exampleEvents).sort()).toEqual([...EVENT_TOPICS].sort());
    expect(Object.keys(EventSchemas).sort()).toEqual([...EVENT_TOPICS].sort());
  });

  it('lists a DLQ for every topic', () => {
    for (const t of EVENT_TOPICS) expect(ALL_TOPICS).toContain(dlqTopic(t));
    expect(ALL_TOPICS).toHaveLength(EVENT_TOPICS.length * 2);
  });

  it('rejects bytes that are not JSON, naming why', () => {
    const r = parseEvent('job.proposed', Buffer.from('{oops'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/not JSON/);
  });

  it('rejects an empty value', () => {
    expect(parseEvent('job.proposed', null)).toMatchObject({ ok: false, error: 'empty message value' });
  });

  it('names the invalid field of a proposal missing its topic', () => {
    const { topic: _t, ...data } = exampleEvents['job.proposed'].data;
    const r = parseEvent('job.proposed', JSON.stringify({ ...exampleEvents['job.proposed'], data }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toContain('data.topic');
  });

  it('rejects an event on the wrong topic', () => {
    const r = parseEvent('decision.made', JSON.stringify(exampleEvents['job.proposed']));
    expect(r.ok).toBe(false);
  });

  it('rejects globs in a job topic and unknown decisions', () => {
    const bad = {
      ...exampleEvents['job.proposed'],
      data: { ...exampleEvents['job.proposed'].data, topic: 'job.*.read' },
    };
    expect(parseEvent('job.proposed', JSON.stringify(bad)).ok).toBe(false);
    const d = exampleEvents['decision.made'];
    expect(parseEvent('decision.made', JSON.stringify({ ...d, data: { ...d.data, decision: 'MAYBE' } })).ok).toBe(
      false,
    );
  });

  it('rejects malformed snapshot ids and hashes', () => {
    const d = exampleEvents['decision.made'];
    expect(
      parseEvent(
        'decision.made',
        JSON.stringify({ ...d, data: { ...d.data, policy_snapshot: 'cfg:system:policy#md5:abc' } }),
      ).ok,
    ).toBe(false);
    expect(
      parseEvent('decision.made', JSON.stringify({ ...d, data: { ...d.data, job_hash: 'B'.repeat(64) } })).ok,
    ).toBe(false);
  });
});
