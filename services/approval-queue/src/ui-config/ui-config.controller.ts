import { ApiJsonOk } from '@countersign/service-kit';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { QUEUE_CONFIG, type QueueConfig } from '../config/queue-config';
import { UiConfigSchema, type UiConfig } from './ui-config.schemas';

/** The reviewers' page's sign-in settings: public (the page needs them before anyone is signed in), no secrets. */
@ApiTags('reviewer page')
@Controller('api/v1/ui-config')
export class UiConfigController {
  constructor(@Inject(QUEUE_CONFIG) private readonly config: QueueConfig) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiOperation({
    summary: "The reviewers' page's sign-in settings",
    description:
      'Unauthenticated: the OpenID provider (issuer, client id, scopes, resource) the page signs in with, where access tokens ' +
      'carry roles and tenants, and whether the development paste-a-token form is on. Holds no secret.',
  })
  @ApiJsonOk(UiConfigSchema)
  get(): UiConfig {
    const { oidc, rolesClaim, tenantsClaim, devTokenForm } = this.config.ui;
    return {
      oidc: oidc
        ? { issuer: oidc.issuer, client_id: oidc.clientId, scopes: oidc.scopes, resource: oidc.resource }
        : null,
      roles_claim: rolesClaim,
      tenants_claim: tenantsClaim,
      dev_token_form: devTokenForm,
    };
  }
}
