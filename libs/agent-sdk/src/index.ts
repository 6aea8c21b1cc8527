export { Countersign, type CountersignOptions, type WaitOptions } from './countersign';
export {
  buildProposal,
  serializeProposal,
  DEFAULT_MAX_PROPOSAL_BYTES,
  type ProposeInput,
  type AgentIdentity,
} from './proposal';
export { verifyGrant, type Grant, type ExpectedGrant } from './grant';
export { signalOf, outcomeOf, blockedError, type ExecutionOutcome, type JobSignal } from './outcome';
export * from './errors';
