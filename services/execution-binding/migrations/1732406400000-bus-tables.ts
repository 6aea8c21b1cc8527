import { busTablesMigration } from '@countersign/bus';

export const BusTables1732406400000 = busTablesMigration('execution_binding');
