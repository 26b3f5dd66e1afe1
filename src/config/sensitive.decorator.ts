import 'reflect-metadata';

const SENSITIVE = Symbol('sensitive');

/** Marks a configuration property as secret: masked wherever config is shown, never logged. */
export function Sensitive(): PropertyDecorator {
  return (target, propertyKey) => {
    const existing = (Reflect.getMetadata(SENSITIVE, target) as string[] | undefined) ?? [];
    Reflect.defineMetadata(SENSITIVE, [...existing, String(propertyKey)], target);
  };
}

export function sensitiveKeys(target: object): string[] {
  return (Reflect.getMetadata(SENSITIVE, target) as string[] | undefined) ?? [];
}
