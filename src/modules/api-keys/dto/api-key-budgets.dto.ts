import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsUUID } from 'class-validator';

/** `ids=a,b,c`, `ids=a&ids=b` or both: one list. */
const toList = ({ value }: { value: unknown }): unknown => {
  const parts = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(parts) || !parts.every((part) => typeof part === 'string')) return value;
  return parts.flatMap((part) => part.split(',')).filter((id) => id !== '');
};

/** Query string of `GET /admin/api/keys/budgets`. */
export class ApiKeyBudgetsQueryDto {
  /** Key ids, comma-separated or repeated; up to 200 (a page of the key list). */
  @Transform(toList)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsUUID('all', { each: true })
  ids!: string[];
}

/** A cost cap of a period; costs in micro-dollars, times in epoch milliseconds. */
export class BudgetCapStatusDto {
  limitMicros!: number;
  /** Spent plus reserved by requests in flight. */
  spentMicros!: number;
  /** When the period resets; null for the total cap. */
  resetAtMs!: number | null;
}

export class WindowMeterDto {
  limit!: number;
  used!: number;
}

export class WindowStatusDto {
  windowMinutes!: number;
  /** When the current window ends; null when no window is open (nothing used in it yet). */
  resetAtMs!: number | null;
  requests?: WindowMeterDto;
  /** `used` includes one placeholder token per request in flight. */
  tokens?: WindowMeterDto;
  costMicros?: WindowMeterDto;
}

export class ConcurrencyStatusDto {
  limit!: number;
  active!: number;
}

/** What is used of each limit the key has; a limit it does not have is absent. */
export class ApiKeyBudgetStatusDto {
  daily?: BudgetCapStatusDto;
  weekly?: BudgetCapStatusDto;
  total?: BudgetCapStatusDto;
  window?: WindowStatusDto;
  concurrency?: ConcurrencyStatusDto;
}

export class ApiKeyBudgetsItemDto {
  id!: string;
  budgets!: ApiKeyBudgetStatusDto;
}

/** One entry per key asked for that exists (unknown ids are left out), in the order asked. */
export class ApiKeyBudgetsResponseDto {
  items!: ApiKeyBudgetsItemDto[];
}
