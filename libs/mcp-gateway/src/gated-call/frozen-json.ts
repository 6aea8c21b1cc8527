export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A deep-frozen JSON copy: nothing that holds the original (the MCP request, a handler further up)
 * can change what the gateway proposed, and nothing can change the copy between the proposal and
 * the upstream call. Throws on what JSON cannot carry unchanged.
 */
export function frozenJsonCopy<T>(value: T): DeepReadonly<T> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('not JSON');
  const copy = JSON.parse(text) as T;
  return deepFreeze(copy) as DeepReadonly<T>;
}
