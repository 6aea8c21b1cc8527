import { applyDecorators, UseGuards, type CanActivate, type Type } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrors } from '../openapi';
import { BearerAuthGuard } from './bearer-auth.guard';
import { OPERATOR_ROLES, RequireRoles, RolesGuard } from './roles.guard';

export interface AuthenticatedOptions {
  /** Error responses documented for every route it covers (status: description). */
  errors?: Record<number, string>;
  /** Roles of which the token must carry one (RolesGuard with @RequireRoles). */
  roles?: readonly string[];
  /** Guards run after BearerAuthGuard (and RolesGuard). */
  guards?: Type<CanActivate>[];
}

/**
 * A controller or route that needs a bearer token: the OpenAPI bearer scheme and error responses,
 * BearerAuthGuard (which sets the actor), then the role check and any further guards.
 */
export function Authenticated(opts: AuthenticatedOptions = {}): ClassDecorator & MethodDecorator {
  const { errors, roles, guards = [] } = opts;
  return applyDecorators(
    ApiBearerAuth(),
    ...(errors ? [ApiErrors(errors)] : []),
    UseGuards(BearerAuthGuard, ...(roles ? [RolesGuard] : []), ...guards),
    ...(roles ? [RequireRoles(...roles)] : []),
  );
}

/** For operators and auditors only (OPERATOR_ROLES): operational state, never agents. */
export function OperatorApi(errors?: Record<number, string>): ClassDecorator & MethodDecorator {
  return Authenticated({ ...(errors ? { errors } : {}), roles: OPERATOR_ROLES });
}
