import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** The OpenAPI form of a zod schema, so the docs are generated from the same schema that validates. */
export function openApi(schema: z.ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as SchemaObject;
}

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ example: 'ROLE_NOT_ALLOWED' }),
    message: z.string(),
    field: z.string().optional().meta({ description: 'INVALID_REQUEST: the first invalid field' }),
  }),
});
