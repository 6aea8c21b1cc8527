export type PolicyErrorCode =
  /** The file is not well-formed YAML. */
  | 'POLICY_SYNTAX'
  /** Well-formed YAML that is not a valid policy (wrong field, wrong value, duplicate rule id). */
  | 'POLICY_INVALID'
  /** A policy file or directory could not be read. */
  | 'POLICY_NOT_FOUND'
  /** A policy set that cannot be assembled (e.g. a tenant rule reusing a system rule id). */
  | 'POLICY_CONFLICT';

/**
 * Why a policy could not be loaded. `issues` holds one self-contained line per problem
 * (`<file>: rule "<id>": <field>: <what was expected>`); `message` joins them on one line so a
 * CLI or log can print it as is.
 */
export class PolicyError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    readonly issues: readonly string[],
  ) {
    super(issues.join('; '));
    this.name = 'PolicyError';
  }
}
