import { applyDecorators, Module, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ApiBody,
  ApiOkResponse,
  ApiParam,
  ApiQuery,
  ApiResponse,
  DocumentBuilder,
  SwaggerModule,
  type ApiResponseSchemaHost,
  type OpenAPIObject,
} from '@nestjs/swagger';
import { z } from 'zod';

/** An OpenAPI 3.0 schema object as `@nestjs/swagger` takes it. */
export type OpenApiSchema = ApiResponseSchemaHost['schema'];

/**
 * The OpenAPI form of a zod schema, so the served document is generated from the same schema that
 * validates (`input`: what a request may send, defaults optional; `output`: what an answer holds).
 */
export function openApi(schema: z.ZodType, io: 'input' | 'output' = 'output'): OpenApiSchema {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as OpenApiSchema;
}

/** Every error answer: `{ "error": { "code", "message", ...details } }` (the global `ErrorFilter`). */
export const ErrorBodySchema = z.object({
  error: z.looseObject({
    code: z.string().meta({ example: 'ROLE_NOT_ALLOWED' }),
    message: z.string(),
    field: z.string().optional().meta({ description: 'INVALID_REQUEST: the first invalid field' }),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** `200 application/json` answered with `schema` (output form). */
export function ApiJsonOk(schema: z.ZodType, description?: string): MethodDecorator & ClassDecorator {
  return ApiOkResponse({ schema: openApi(schema), ...(description ? { description } : {}) });
}

/** A JSON request body validated by `schema` (input form). */
export function ApiJsonBody(schema: z.ZodType, opts: { required?: boolean } = {}): MethodDecorator {
  return ApiBody({ schema: openApi(schema, 'input'), ...(opts.required === false ? { required: false } : {}) });
}

/**
 * The error answers of an operation (or of every operation of a controller), each with the error
 * body schema: `ApiErrors({ 401: 'UNAUTHENTICATED', 404: 'JOB_NOT_FOUND' })`.
 */
export function ApiErrors(errors: Record<number, string>): MethodDecorator & ClassDecorator {
  const schema = openApi(ErrorBodySchema);
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) =>
      ApiResponse({ status: Number(status), description, schema }),
    ),
  );
}

function objectProperties(schema: z.ZodObject): { name: string; required: boolean; schema: Record<string, unknown> }[] {
  const json = openApi(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, required: required.has(name), schema: s }));
}

/** One query parameter per field of a zod object schema (the one its `ZodPipe` validates). */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  return applyDecorators(
    ...objectProperties(schema).map(({ name, required, schema: s }) => {
      const { description, ...rest } = s;
      return ApiQuery({
        name,
        required,
        schema: rest,
        ...(typeof description === 'string' ? { description } : {}),
      });
    }),
  );
}

/** One path parameter per field of a zod object schema. */
export function ApiParamsFrom(schema: z.ZodObject): MethodDecorator {
  return applyDecorators(
    ...objectProperties(schema).map(({ name, schema: s }) => {
      const { description, example, ...rest } = s;
      return ApiParam({
        name,
        schema: rest,
        ...(typeof description === 'string' ? { description } : {}),
        ...(example !== undefined ? { example } : {}),
      });
    }),
  );
}

/** The document frame every service serves at `/api/docs` (its paths come from the controllers). */
export function openApiConfig(title: string, description: string): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder().setTitle(title).setDescription(description).setVersion('1.0').addBearerAuth().build();
}

/**
 * Preview mode still resolves the dependency graph (it only skips constructing): one stub value for
 * each constructor dependency of the controllers and of their guards.
 */
function previewStubs(controllers: Type<unknown>[]): Provider[] {
  const tokens = new Set<unknown>();
  const addDependencies = (cls: unknown) => {
    if (typeof cls !== 'function') return;
    const types = (Reflect.getMetadata('design:paramtypes', cls) ?? []) as unknown[];
    const declared = (Reflect.getMetadata('self:paramtypes', cls) ?? []) as { index: number; param: unknown }[];
    types.forEach((type, index) => tokens.add(declared.find((d) => d.index === index)?.param ?? type));
  };
  for (const controller of controllers) {
    addDependencies(controller);
    const methods = Object.getOwnPropertyNames(controller.prototype).map(
      (name) => (controller.prototype as Record<string, unknown>)[name],
    );
    for (const target of [controller, ...methods]) {
      if (typeof target !== 'function') continue;
      for (const guard of (Reflect.getMetadata('__guards__', target) ?? []) as unknown[]) addDependencies(guard);
    }
  }
  return [...tokens]
    .filter((t): t is Provider & (string | symbol | Type<unknown>) => t !== undefined && t !== Object)
    .map((provide) => ({ provide, useValue: {} }));
}

/**
 * A service's OpenAPI document built from its HTTP controllers alone, without starting it: Nest's
 * preview mode scans the controllers' decorators and instantiates nothing, so no database, broker or
 * configuration is needed (the API-types generator uses it).
 */
export async function buildOpenApiDocument(opts: {
  title: string;
  description: string;
  controllers: Type<unknown>[];
}): Promise<OpenAPIObject> {
  class ApiDocumentModule {}
  Module({ controllers: opts.controllers, providers: previewStubs(opts.controllers) })(ApiDocumentModule);
  const app = await NestFactory.create(ApiDocumentModule, { preview: true, logger: false, abortOnError: false });
  try {
    return SwaggerModule.createDocument(app, openApiConfig(opts.title, opts.description));
  } finally {
    await app.close();
  }
}
