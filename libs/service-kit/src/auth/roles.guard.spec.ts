import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CodedError, httpStatusOf } from '@countersign/contracts';
import { RequireRoles, RolesGuard } from './roles.guard';

class Routes {
  @RequireRoles('operator', 'auditor')
  guarded(): void {}
  bare(): void {}
}

const ctx = (handler: keyof Routes, actor?: { sub: string; roles: string[] }): ExecutionContext =>
  ({
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => ({ actor }) }),
  }) as unknown as ExecutionContext;

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return [(e as CodedError).code, httpStatusOf((e as CodedError).code)];
  }
  return 'passed';
};

describe('RolesGuard', () => {
  const guard = new RolesGuard(new Reflector());

  it('admits an actor holding one of the required roles', () => {
    expect(guard.canActivate(ctx('guarded', { sub: 'o', roles: ['viewer', 'operator'] }))).toBe(true);
    expect(guard.canActivate(ctx('guarded', { sub: 'a', roles: ['auditor'] }))).toBe(true);
  });

  it('refuses other roles with 403 ROLE_NOT_ALLOWED, no actor with 401', () => {
    expect(codeOf(() => guard.canActivate(ctx('guarded', { sub: 'b', roles: ['service-owner', 'approver'] })))).toEqual(
      ['ROLE_NOT_ALLOWED', 403],
    );
    expect(codeOf(() => guard.canActivate(ctx('guarded', { sub: 'b', roles: [] })))).toEqual(['ROLE_NOT_ALLOWED', 403]);
    expect(codeOf(() => guard.canActivate(ctx('guarded')))).toEqual(['UNAUTHENTICATED', 401]);
  });

  it('fails closed on a route that names no role', () => {
    expect(codeOf(() => guard.canActivate(ctx('bare', { sub: 'o', roles: ['operator'] })))).toEqual([
      'ROLE_NOT_ALLOWED',
      403,
    ]);
  });
});
