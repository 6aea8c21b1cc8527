/** Types for acl-matrix.cjs (imported by the deploy tests). */
export type AclResource = 'topic' | 'group' | 'cluster';
export type AclPattern = 'literal' | 'prefix';
export type AclOperation = 'Read' | 'Write' | 'IdempotentWrite';

export interface AclBinding {
  principal: string;
  resource: AclResource;
  pattern: AclPattern;
  name: string;
  operation: AclOperation;
}

export interface PrincipalSpec {
  kind: 'service' | 'client';
  reads: string[];
  writes: string[];
  writePrefixes?: string[];
}

export declare const EVENT_TOPICS: readonly string[];
export declare const ALL_TOPICS: readonly string[];
export declare const PARTITIONS: number;
export declare const DISPATCH_PREFIX: string;
export declare const PRINCIPALS: Record<string, PrincipalSpec>;
export declare function expandAcls(): AclBinding[];
export declare function markdownTable(): string;
export declare function strimziUsers(cluster?: string): string;
