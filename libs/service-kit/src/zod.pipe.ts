import { type PipeTransform } from '@nestjs/common';
import { findUnsafeJson, invalidRequest } from '@countersign/contracts';
import type { z } from 'zod';

/** Validates a body or query against a zod schema; the 400 names the first invalid field. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    // NUL characters, lone surrogates and runaway nesting pass a schema but no database or hash takes them.
    const unsafe = findUnsafeJson(value);
    if (unsafe) {
      const field = unsafe.path === '(root)' ? '(body)' : unsafe.path;
      throw invalidRequest(field, `${field}: ${unsafe.message}`);
    }
    const r = this.schema.safeParse(value ?? {});
    if (r.success) return r.data;
    const first = r.error.issues[0];
    const field = first?.path.join('.') || '(body)';
    throw invalidRequest(field, `${field}: ${first?.message ?? 'invalid'}`, {
      issues: r.error.issues.slice(0, 10).map((i) => ({ field: i.path.join('.'), message: i.message })),
    });
  }
}
