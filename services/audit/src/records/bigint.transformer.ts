import type { ValueTransformer } from 'typeorm';

/** Postgres bigint arrives as a string; seqs stay far below 2^53, so a number is exact. */
export const bigintAsNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};
