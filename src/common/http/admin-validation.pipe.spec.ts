import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { toAdminError } from './admin-exception.filter';
import { adminValidationPipe } from './admin-validation.pipe';

class LimitsDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  rpm?: number;

  @IsOptional()
  @IsInt()
  concurrency?: number;
}

class TargetDto {
  @IsString()
  model!: string;
}

class KeyDto {
  @IsString()
  name!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => LimitsDto)
  limits?: LimitsDto;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => TargetDto)
  targets?: TargetDto[];

  @IsOptional()
  @IsString({ each: true })
  tags?: string[];
}

const BODY: ArgumentMetadata = { type: 'body', metatype: KeyDto };

async function refusal(pipe: ValidationPipe, value: unknown): Promise<BadRequestException> {
  try {
    await pipe.transform(value, BODY);
  } catch (error) {
    if (error instanceof BadRequestException) return error;
    throw error;
  }
  throw new Error('the pipe accepted the value');
}

describe('adminValidationPipe', () => {
  const nest = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
  const pipe = adminValidationPipe();

  it('should answer VALIDATION_FAILED with the messages by dotted field path', async () => {
    const { status, body } = toAdminError(
      await refusal(pipe, {
        name: 7,
        limits: { rpm: 0, concurrency: 'x', burst: 3 },
        targets: [{ model: 'a' }, { model: 5 }],
        tags: ['ok', 3],
        extra: true,
      }),
    );
    expect(status).toBe(400);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.details).toEqual({
      fields: [
        // Unknown fields first: class-validator reports them before the declared ones.
        { field: 'extra', messages: ['property extra should not exist'] },
        { field: 'name', messages: ['name must be a string'] },
        { field: 'limits.burst', messages: ['limits.property burst should not exist'] },
        { field: 'limits.rpm', messages: ['limits.rpm must not be less than 1'] },
        { field: 'limits.concurrency', messages: ['limits.concurrency must be an integer number'] },
        { field: 'targets.1.model', messages: ['targets.1.model must be a string'] },
        { field: 'tags', messages: ['each value in tags must be a string'] },
      ],
    });
  });

  it.each([
    ['a missing field', {}],
    ['nested errors', { name: 'k', limits: { rpm: -1, concurrency: 1.5 } }],
    ['array items', { name: 'k', targets: [{}, { model: 1 }] }],
    ['unknown fields at two levels', { name: 'k', limits: { x: 1 }, y: 2 }],
  ])('should keep the message Nest itself would send for %s', async (_case, value) => {
    const ours = toAdminError(await refusal(pipe, value)).body.error;
    const theirs = toAdminError(await refusal(nest, value)).body.error;
    expect(ours.message).toBe(theirs.message);
    expect(ours.message).not.toBe('');
    const fields = ours.details?.fields as Array<{ messages: string[] }>;
    expect(fields.flatMap((entry) => entry.messages).join('; ')).toBe(ours.message);
  });
});
