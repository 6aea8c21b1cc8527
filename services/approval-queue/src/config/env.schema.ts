import { BaseEnvSchema } from '@countersign/bus';
import { z } from 'zod';

export const EnvSchema = BaseEnvSchema.extend({
  PORT: z.coerce.number().int().min(1).max(65535).default(8081),
});
export type Env = z.infer<typeof EnvSchema>;
