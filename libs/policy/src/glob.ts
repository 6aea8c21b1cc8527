/**
 * Topic globs are matched segment by segment (segments are separated by `.`):
 * `*` alone is exactly one segment, `**` alone is zero or more segments, and `*` inside a
 * segment (`deploy-*`) is any run of characters within that segment. Everything else is literal.
 * Compiled to one anchored RegExp, so matching is a single `test` call.
 */
export const TOPIC_GLOB = /^(\*\*|[A-Za-z0-9_*-]+)(\.(\*\*|[A-Za-z0-9_*-]+))*$/;

/** What {@link TOPIC_GLOB} accepts, in words, for validation messages. */
export const TOPIC_GLOB_SYNTAX = 'a topic glob: dot-separated segments of letters, digits, "_", "-" and "*", or "**"';

/** Tenant ids are flat: `*` is any run of characters, everything else is literal. */
export const ID_GLOB = /^[A-Za-z0-9._:@*-]+$/;

/**
 * Agent globs: the agent id characters (`/ = , +` included) and `*`. As in tenant globs, `*` is any
 * run of characters and crosses `/`: `spiffe://acme.example/ns/prod/*` names every workload under
 * `ns/prod`, at any depth. End a prefix with `/` to stay inside it (`spiffe://acme.example*` also
 * matches `spiffe://acme.example.evil/...`).
 */
export const AGENT_GLOB = /^[A-Za-z0-9._:@=,+/*-]+$/;

const SEGMENT = '[^.]+';

/** Splits a topic glob into segments, collapsing `**.**` (it means the same as `**`). */
export function topicGlobSegments(glob: string): string[] {
  const out: string[] = [];
  for (const seg of glob.split('.')) {
    if (seg === '**' && out[out.length - 1] === '**') continue;
    out.push(seg);
  }
  return out;
}

function escapeLiteral(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function segmentSource(seg: string): string {
  if (seg === '*') return SEGMENT;
  return seg.split('*').map(escapeLiteral).join('[^.]*');
}

/** The regex source (unanchored) for one topic glob. */
export function topicGlobSource(glob: string): string {
  const segs = topicGlobSegments(glob);
  const last = segs.length - 1;
  if (segs.length === 1 && segs[0] === '**') return `${SEGMENT}(?:\\.${SEGMENT})*`;
  let out = '';
  segs.forEach((seg, i) => {
    if (seg === '**') {
      if (i === 0) out += `(?:${SEGMENT}\\.)*`;
      else if (i === last) out += `(?:\\.${SEGMENT})*`;
      else out += `\\.(?:${SEGMENT}\\.)*`;
      return;
    }
    if (i > 0 && segs[i - 1] !== '**') out += '\\.';
    out += segmentSource(seg);
  });
  return out;
}

/** One anchored RegExp for a list of topic globs (any of them), or `null` for "any topic". */
export function compileTopicGlobs(globs: readonly string[] | null): RegExp | null {
  if (globs === null) return null;
  return new RegExp(`^(?:${globs.map(topicGlobSource).join('|')})$`);
}

/** One anchored RegExp for a list of agent or tenant globs, or `null` for "any id"; `*` crosses `/`. */
export function compileIdGlobs(globs: readonly string[] | null): RegExp | null {
  if (globs === null) return null;
  return new RegExp(`^(?:${globs.map((g) => g.split('*').map(escapeLiteral).join('.*')).join('|')})$`);
}

/** Single-segment glob `p` matches every segment `q` matches (conservative: may answer false). */
function segmentCovers(p: string, q: string): boolean {
  if (p === q || p === '*') return true;
  if (q.includes('*')) return false;
  return new RegExp(`^${segmentSource(p)}$`).test(q);
}

function coversFrom(p: readonly string[], i: number, q: readonly string[], j: number): boolean {
  if (i === p.length) return j === q.length;
  if (p[i] === '**') return coversFrom(p, i + 1, q, j) || (j < q.length && coversFrom(p, i, q, j + 1));
  if (j === q.length || q[j] === '**') return false;
  return segmentCovers(p[i]!, q[j]!) && coversFrom(p, i + 1, q, j + 1);
}

/**
 * Whether every topic matched by glob `q` is also matched by glob `p`. Used by lint to find
 * shadowed rules; it errs towards `false` so it never reports a rule that can still decide.
 */
export function topicGlobCovers(p: string, q: string): boolean {
  return coversFrom(topicGlobSegments(p), 0, topicGlobSegments(q), 0);
}

/** Whether every id matched by glob `q` is also matched by glob `p` (conservative). */
export function idGlobCovers(p: string, q: string): boolean {
  if (p === q || p === '*') return true;
  if (q.includes('*')) return false;
  return compileIdGlobs([p])!.test(q);
}
