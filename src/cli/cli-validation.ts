import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';

function flattenErrors(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const property = path === '' ? error.property : `${path}.${error.property}`;
    return [
      ...Object.values(error.constraints ?? {}).map((message) =>
        message.startsWith(error.property)
          ? `${path === '' ? '' : `${path}.`}${message}`
          : `${property}: ${message}`,
      ),
      ...flattenErrors(error.children ?? [], property),
    ];
  });
}

/** The same validation the admin API applies, so the CLI cannot store what the API would refuse. */
export async function validated<T extends object>(cls: new () => T, plain: object): Promise<T> {
  const instance = plainToInstance(cls, plain);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) throw new Error(flattenErrors(errors).join('; '));
  return instance;
}
