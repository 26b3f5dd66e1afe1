import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/** One field's validation messages: `field` is a dotted path for nested values (`limits.rpm`). */
export interface FieldErrors {
  field: string;
  messages: string[];
}

/**
 * The fields of a failed validation, in the order (and with the wording) of Nest's own
 * ValidationPipe message: a nested value's messages start with its parent's path
 * (`limits.rpm must not be less than 1`), array items are numbered (`tags.0`). As in Nest, an
 * object whose children failed reports them rather than itself.
 */
export function validationFields(errors: readonly ValidationError[]): FieldErrors[] {
  const out = new Map<string, string[]>();
  const add = (error: ValidationError, parentPath: string | undefined): void => {
    const messages = Object.values(error.constraints ?? {});
    if (messages.length === 0) return;
    const field = parentPath === undefined ? error.property : `${parentPath}.${error.property}`;
    const prefixed =
      parentPath === undefined ? messages : messages.map((m) => `${parentPath}.${m}`);
    out.set(field, [...(out.get(field) ?? []), ...prefixed]);
  };
  const walk = (error: ValidationError, parentPath: string | undefined): void => {
    if (!error.children?.length) {
      add(error, parentPath);
      return;
    }
    const path = parentPath === undefined ? error.property : `${parentPath}.${error.property}`;
    for (const child of error.children) {
      if (child.children?.length) walk(child, path);
      add(child, path);
    }
  };
  for (const error of errors) walk(error, undefined);
  return [...out].map(([field, messages]) => ({ field, messages }));
}

/**
 * A 400 whose body keeps Nest's message list and adds the messages by field; the admin exception
 * filter answers it as `VALIDATION_FAILED` with `details.fields`.
 */
export function validationException(errors: ValidationError[]): BadRequestException {
  const fields = validationFields(errors);
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: fields.flatMap((entry) => entry.messages),
    fields,
  });
}

/** The admin API's request validation: unknown fields refused, values transformed to the DTO. */
export function adminValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: validationException,
  });
}
