import { h } from './dom';

/**
 * Pretty JSON as DOM nodes (two-space indent, keys sorted) so that redacted values can be
 * marked: highlighted, with words for screen readers, instead of looking like ordinary strings.
 * Everything is shown: the service redacts scalar values only, never structure, and refuses at
 * intake any payload deeper than it can show, so there is no cut-off here either.
 */
export function renderJson(value: unknown, redactedPaths: ReadonlySet<string>): HTMLElement {
  const code = h('code');
  write(code, value, '', 0, redactedPaths);
  return h('pre', { class: 'json', tabindex: 0, 'aria-label': 'Payload as JSON' }, code);
}

/** `payloadPath` of @countersign/contracts, the notation of `redacted_fields`: `a.b`, `items[0]`, `x["odd key"]`. */
function childPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function write(out: HTMLElement, value: unknown, path: string, depth: number, redacted: ReadonlySet<string>): void {
  const pad = '  '.repeat(depth);
  if (value === null) {
    out.append(h('span', { class: 'j-null' }, 'null'));
  } else if (typeof value === 'string') {
    // Marked by path only: a value the agent itself wrote as "[REDACTED]" is shown as it is, since
    // that is what will run.
    if (redacted.has(path)) {
      out.append(
        h('mark', { class: 'j-redacted', title: 'Hidden from reviewers' }, JSON.stringify(value)),
        h('span', { class: 'sr-only' }, ' (redacted, hidden from reviewers)'),
      );
    } else {
      out.append(h('span', { class: 'j-string' }, JSON.stringify(value)));
    }
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    out.append(h('span', { class: typeof value === 'number' ? 'j-number' : 'j-bool' }, String(value)));
  } else if (Array.isArray(value)) {
    if (value.length === 0) return void out.append('[]');
    out.append('[\n');
    value.forEach((v, i) => {
      out.append(`${pad}  `);
      write(out, v, `${path}[${i}]`, depth + 1, redacted);
      out.append(i < value.length - 1 ? ',\n' : '\n');
    });
    out.append(`${pad}]`);
  } else if (typeof value === 'object') {
    // Sorted: the stored payload's key order is not the agent's anyway (Postgres jsonb reorders it).
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return void out.append('{}');
    out.append('{\n');
    entries.forEach(([k, v], i) => {
      out.append(`${pad}  `, h('span', { class: 'j-key' }, JSON.stringify(k)), ': ');
      write(out, v, childPath(path, k), depth + 1, redacted);
      out.append(i < entries.length - 1 ? ',\n' : '\n');
    });
    out.append(`${pad}}`);
  } else {
    out.append(String(value));
  }
}
