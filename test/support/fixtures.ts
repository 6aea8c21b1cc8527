export { jobId, proposal } from '@countersign/testkit';
