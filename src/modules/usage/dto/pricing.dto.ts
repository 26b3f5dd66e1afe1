import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import {
  PageQueryDto,
  SORT_ORDERS,
  TrimSearch,
  type SortOrder,
} from 'src/common/http/list-query.dto';

/** No model costs anywhere near this; it only keeps typos (an extra 000) out. */
const MAX_USD_PER_MTOK = 100_000;
const FINITE = { allowNaN: false, allowInfinity: false } as const;

export class ModelParamDto {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  model!: string;
}

export class PriceLookupQueryDto extends ModelParamDto {}

/** A long-context tier as a whole: it replaces the model's tier (all fields in $/MTok). */
export class LongContextPriceRequestDto {
  /** The tier applies when prompt tokens (input + cache writes + cache reads) exceed this. */
  @IsInt()
  @Min(1)
  thresholdTokens!: number;

  @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) input!: number;
  @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) output!: number;
  @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheWrite5m!: number;
  @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheWrite1h!: number;
  @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheRead!: number;
}

/**
 * An admin price override, in US dollars per million tokens. For a model in the table the given
 * fields replace its own; a model in no table needs at least `input` and `output` (cache prices
 * are then derived: Claude's multipliers for Claude models, the input price otherwise).
 */
export class PriceOverrideRequestDto {
  @IsOptional() @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) input?: number;
  @IsOptional() @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) output?: number;
  @IsOptional() @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheWrite5m?: number;
  @IsOptional() @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheWrite1h?: number;
  @IsOptional() @IsNumber(FINITE) @Min(0) @Max(MAX_USD_PER_MTOK) cacheRead?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => LongContextPriceRequestDto)
  longContext?: LongContextPriceRequestDto;
}

/** Token prices in US dollars per million tokens. */
export class PriceRatesDto {
  input!: number;
  output!: number;
  cacheWrite5m!: number;
  cacheWrite1h!: number;
  cacheRead!: number;
}

export class LongContextRatesDto extends PriceRatesDto {
  thresholdTokens!: number;
}

export class ModelPriceDto extends PriceRatesDto {
  longContext?: LongContextRatesDto;
}

/** Where a model's price comes from; `default` = UNKNOWN_MODEL_*, flagged in the stats. */
export type PriceSource = 'override' | 'file' | 'bundled' | 'default';

export class PriceLookupDto {
  /** The model name asked about. */
  model!: string;
  known!: boolean;
  /** The table entry that matched (`claude-sonnet-4` for `claude-sonnet-4-20250514`). */
  matchedModel!: string | null;
  source!: PriceSource;
  price!: ModelPriceDto;
}

export class PriceEntryDto {
  model!: string;
  source!: Exclude<PriceSource, 'default'>;
  price!: ModelPriceDto;
}

export const PRICE_SOURCES = ['override', 'file', 'bundled'] as const;
export const PRICE_SORT_FIELDS = ['model', 'input', 'output'] as const;
export type PriceSortField = (typeof PRICE_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/pricing/models`. */
export class ListPricesQueryDto extends PageQueryDto {
  /** Case-insensitive substring of the model name. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  @IsOptional()
  @IsIn(PRICE_SOURCES)
  source?: Exclude<PriceSource, 'default'>;

  /** `input` and `output` sort by the base price ($/MTok). */
  @IsIn(PRICE_SORT_FIELDS)
  sortBy: PriceSortField = 'model';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
}

export class PriceListDto {
  /** PRICING_FILE merged over the bundled table, or null. */
  pricingFile!: string | null;
  /** Charged for models in no table. */
  defaultPrice!: ModelPriceDto;
  items!: PriceEntryDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}

export const PRICE_OVERRIDE_SORT_FIELDS = ['model', 'updatedAt'] as const;
export type PriceOverrideSortField = (typeof PRICE_OVERRIDE_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/pricing/overrides`. */
export class ListPriceOverridesQueryDto extends PageQueryDto {
  /** Case-insensitive substring of the model name. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  @IsIn(PRICE_OVERRIDE_SORT_FIELDS)
  sortBy: PriceOverrideSortField = 'model';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
}

export class PriceOverrideListDto {
  items!: PriceOverrideDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}

export class PriceOverrideDto {
  model!: string;
  /** The fields the admin set ($/MTok). */
  override!: Partial<ModelPriceDto>;
  /** The model's price with the override applied ($/MTok). */
  price!: ModelPriceDto;
  updatedAt!: string;
}
