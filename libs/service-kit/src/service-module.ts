import { Global, Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { CLOCK, systemClock } from '@countersign/clock';
import type { ApproverAuth, BaseEnv } from '@countersign/config';
import { TOKEN_VERIFIER, tokenVerifierProvider } from './auth/bearer-auth.guard';
import { BusModule } from './bus.module';
import type { ServiceDefinition } from './service-definition';

/** What every service's one config object carries besides its own settings. */
export interface ServiceConfig {
  env: BaseEnv;
  /** How the service's bearer tokens are verified. */
  approverAuth: ApproverAuth;
}

export interface ServiceModuleOptions<C extends ServiceConfig> {
  service: ServiceDefinition;
  config: C;
  /** Injection token of the config object. */
  configToken: symbol;
  /** The service's feature modules. */
  features: NonNullable<ModuleMetadata['imports']>;
}

/** The config object, the clock and the token verifier, available to every feature module. */
@Global()
@Module({})
class ServiceConfigModule {
  static forRoot(token: symbol, config: ServiceConfig): DynamicModule {
    return {
      module: ServiceConfigModule,
      providers: [
        { provide: token, useValue: config },
        { provide: CLOCK, useValue: systemClock },
        tokenVerifierProvider(config.approverAuth),
      ],
      exports: [token, CLOCK, TOKEN_VERIFIER],
    };
  }
}

@Module({})
class AppModule {}

/**
 * A service's root module: the bus (Kafka, database, logger, health), the config object under its
 * token with the clock and the token verifier (global), then the service's own feature modules.
 */
export function serviceModule<C extends ServiceConfig>(opts: ServiceModuleOptions<C>): DynamicModule {
  return {
    module: AppModule,
    imports: [
      BusModule.forRoot(opts.service, opts.config.env),
      ServiceConfigModule.forRoot(opts.configToken, opts.config),
      ...opts.features,
    ],
  };
}
