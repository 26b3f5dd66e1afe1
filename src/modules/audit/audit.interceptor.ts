import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { catchError, from, mergeMap, switchMap, throwError, type Observable } from 'rxjs';
import { ROUTE_ACCESS, type RouteAccess } from 'src/common/auth/route-access.decorator';
import { adminErrorOutcome } from 'src/common/http/admin-exception.filter';
import { currentRequestId } from 'src/common/logging/request-context';
import type { AdminRequest } from 'src/modules/auth/route-access.guard';
import { AuditRecorder } from './audit-recorder.service';
import { actionOf, resourceOf, targetIdFromBody, targetIdFromParams } from './audit-route';
import { AuditTargets } from './audit-targets';
import { AUDIT_ROUTE, type AuditRouteOptions } from './audit.decorators';
import { AUDIT_SUCCESS, type AuditEvent } from './audit.types';

interface AuditedRoute {
  action: string;
  targetType: string;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Records one audit row for every request that reaches the handler of an audited route: a
 * non-GET route whose access is a role list (a signed-in user's), unless it says
 * `@NotAudited()`. Requests refused by the access guard (401, 403) never get here and make no
 * row; everything after it does, success or not: a request the handler or its validation refused
 * is recorded with the error code answered and no diff.
 *
 * before = the target loader's view of the route's target before the handler runs; after = the
 * same loader's view once it has answered (null when the target is gone), or, for a target type
 * without a loader, the answer itself when it is an object. Both are sanitized by the recorder;
 * request bodies are never stored. The row goes to the write-behind queue, off the response path.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly routes = new WeakMap<object, AuditedRoute | null>();

  constructor(
    private readonly reflector: Reflector,
    private readonly targets: AuditTargets,
    private readonly recorder: AuditRecorder,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<AdminRequest>();
    if (READ_METHODS.has(req.method) || req.admin === undefined) return next.handle();
    const route = this.routeOf(context);
    if (route === null) return next.handle();

    const admin = req.admin;
    const paramId = targetIdFromParams(req.params);
    const base: Omit<AuditEvent, 'outcome'> = {
      actor: admin.username,
      actorId: admin.id,
      actorRole: admin.role,
      // The TCP peer: a client cannot choose it, as it could an X-Forwarded-For header.
      source: req.socket?.remoteAddress ?? 'unknown',
      action: route.action,
      targetType: route.targetType,
      targetId: paramId,
      requestId: currentRequestId() ?? null,
    };
    const hasLoader = this.targets.get(route.targetType) !== undefined;
    const loadBefore =
      hasLoader && paramId !== null
        ? this.targets.load(route.targetType, paramId)
        : Promise.resolve(null);

    return from(loadBefore).pipe(
      switchMap((before) =>
        next.handle().pipe(
          mergeMap(async (body: unknown) => {
            const targetId = paramId ?? targetIdFromBody(body);
            // A change of no single target (a batch create) keeps its answer (sanitized).
            const after =
              hasLoader && targetId !== null
                ? await this.targets.load(route.targetType, targetId)
                : typeof body === 'object' && body !== null
                  ? body
                  : null;
            this.recorder.record({
              ...base,
              targetId,
              outcome: AUDIT_SUCCESS,
              status: context.switchToHttp().getResponse<Response>().statusCode,
              before,
              after,
            });
            return body;
          }),
          catchError((error: unknown) => {
            const { status, code } = adminErrorOutcome(error);
            this.recorder.record({ ...base, outcome: code, status, before: before ?? undefined });
            return throwError(() => error);
          }),
        ),
      ),
    );
  }

  /** The route's audit names, or null when it is not audited. Worked out once per handler. */
  private routeOf(context: ExecutionContext): AuditedRoute | null {
    const handler = context.getHandler();
    const cached = this.routes.get(handler);
    if (cached !== undefined) return cached;
    const targets = [handler, context.getClass()];
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets);
    const options =
      this.reflector.getAllAndOverride<AuditRouteOptions | undefined>(AUDIT_ROUTE, targets) ?? {};
    let route: AuditedRoute | null = null;
    if (Array.isArray(access) && options.audited !== false) {
      const resource = resourceOf(Reflect.getMetadata(PATH_METADATA, context.getClass()));
      route = {
        action: options.action ?? actionOf(resource, handler.name),
        targetType: options.targetType ?? resource,
      };
    }
    this.routes.set(handler, route);
    return route;
  }
}
