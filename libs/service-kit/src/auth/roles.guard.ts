import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Actor } from './approver-token';
import { roleNotAllowed, unauthenticated } from './auth.errors';

const ROLES_KEY = 'countersign:required-roles';

/** Roles that may read operational state (job state, policy): people, never agents. */
export const OPERATOR_ROLES = ['operator', 'auditor'] as const;

/** The route (or controller) needs a token carrying at least one of these roles. */
export const RequireRoles = (...roles: string[]) => SetMetadata(ROLES_KEY, roles);

/** After BearerAuthGuard: 403 ROLE_NOT_ALLOWED unless the actor holds one of the required roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    // A guarded route without @RequireRoles is a wiring mistake: refuse rather than admit anyone.
    if (!required?.length) throw roleNotAllowed('this route names no role that may use it');
    const actor = context.switchToHttp().getRequest<{ actor?: Actor }>().actor;
    if (!actor) throw unauthenticated();
    if (!actor.roles.some((r) => required.includes(r))) {
      throw roleNotAllowed(`this needs one of the roles: ${required.join(', ')}`, { required_roles: required });
    }
    return true;
  }
}
