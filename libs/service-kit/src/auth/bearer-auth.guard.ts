import type { ApproverAuth } from '@countersign/config';
import {
  createParamDecorator,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type Provider,
} from '@nestjs/common';
import type { Request } from 'express';
import { TokenVerifier, type Actor } from './approver-token';

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/**
 * The one token-verifier factory of every service that takes bearer tokens: `auth` comes from the
 * service's config object (approverAuthFromEnv in @countersign/config, checked at boot).
 */
export function tokenVerifierProvider(auth: ApproverAuth): Provider {
  return { provide: TOKEN_VERIFIER, useValue: new TokenVerifier(auth) };
}

type AuthedRequest = Request & { actor?: Actor };

@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    req.actor = await this.verifier.verify(req.headers.authorization);
    return true;
  }
}

/** The authenticated actor, from the verified token. */
export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a route without BearerAuthGuard');
  return actor;
});
