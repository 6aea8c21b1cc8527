import { OutboxRelay } from '@countersign/bus';
import { CLOCK, type Clock } from '@countersign/clock';
import { BUS_LOGGER } from '@countersign/service-kit';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { BINDING_CONFIG, type BindingConfig } from '../config/binding-config';
import { BindingStore, type Publisher } from './binding.port';

/** What the sweeper, the runner and the report use case write with: config, store, publisher, logger, clock. */
@Injectable()
export class BindingDeps {
  constructor(
    @Inject(BINDING_CONFIG) readonly config: BindingConfig,
    readonly store: BindingStore,
    @Inject(OutboxRelay) readonly relay: Publisher,
    @Inject(BUS_LOGGER) readonly logger: Logger,
    @Inject(CLOCK) readonly clock: Clock,
  ) {}
}
