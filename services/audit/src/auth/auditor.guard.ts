import { Authenticated, roleNotAllowed, unauthenticated, type Actor } from '@countersign/service-kit';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

export const AUDITOR_ROLE = 'auditor';

/** After BearerAuthGuard: the token must carry the `auditor` role. */
@Injectable()
export class AuditorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const actor = context.switchToHttp().getRequest<{ actor?: Actor }>().actor;
    if (!actor) throw unauthenticated();
    if (!actor.roles.includes(AUDITOR_ROLE)) {
      throw roleNotAllowed(`the audit trail needs the '${AUDITOR_ROLE}' role`, { required_role: AUDITOR_ROLE });
    }
    return true;
  }
}

/** An audit trail controller: a bearer token with the auditor role; `invalidRequest` documents its 400. */
export function AuditorApi(invalidRequest: string): ClassDecorator & MethodDecorator {
  return Authenticated({
    errors: {
      400: invalidRequest,
      401: 'UNAUTHENTICATED: no valid bearer token',
      403: 'ROLE_NOT_ALLOWED: the token lacks the auditor role',
    },
    guards: [AuditorGuard],
  });
}

/** Whether a token restricted to `tenants` may see a record of `tenant` (null: not tenant-scoped). */
export function tenantVisible(actor: Pick<Actor, 'tenants'>, tenant: string | null): boolean {
  if (actor.tenants === undefined) return true;
  return tenant !== null && actor.tenants.includes(tenant);
}
