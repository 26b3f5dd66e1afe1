import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import {
  PageQueryDto,
  SORT_ORDERS,
  toBoolean,
  TrimSearch,
  type SortOrder,
} from 'src/common/http/list-query.dto';
import type { Platform } from 'src/common/platform';
import { WIRE_FORMATS, type WireFormat } from 'src/modules/relay/wire-format';
import { ROUTING_SCENARIOS, type RoutingScenario } from '../routing-rule.types';

/** Optional but not nullable: absent keeps the value, null is refused (IsOptional lets it by). */
const IsOptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/** Model names carry no whitespace or control characters; a typo'd space would never match. */
const PATTERN = /^[^\s\p{Cc},]+$/u;
/** One model name: no `*` (it is sent upstream), no `,` (that is the override syntax). */
const TARGET_MODEL = /^[^\s\p{Cc}*,]+$/u;
const MAX_NAME_LENGTH = 200;
const MAX_PRIORITY = 1_000_000;
const MAX_THRESHOLD = 100_000_000;

const PATTERN_MESSAGE = 'modelPattern must not contain whitespace, control characters or commas';
const TARGET_MESSAGE =
  'targetModel must be one model name: no whitespace, control characters, * or commas';
const SCENARIO_MESSAGE = `scenario must be one of ${ROUTING_SCENARIOS.join(', ')}; a rule needs a scenario, a modelPattern, or both`;

export interface RoutingRuleInput {
  name: string;
  apiKeyId?: string | null;
  priority?: number;
  scenario?: RoutingScenario | null;
  modelPattern?: string | null;
  longContextThreshold?: number | null;
  targetModel: string;
  targetGroupId?: string | null;
  enabled?: boolean;
  note?: string | null;
}

export class CreateRoutingRuleDto implements RoutingRuleInput {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  /** The key the rule applies to; absent or null: every key (a global rule). */
  @IsOptional()
  @IsUUID('all')
  apiKeyId?: string | null;

  /** Ascending within the scope; absent puts the rule after the scope's other rules. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;

  /** Required unless a modelPattern is given (then optional: both must hold). */
  @ValidateIf((o: CreateRoutingRuleDto) => o.modelPattern == null || o.scenario != null)
  @IsIn(ROUTING_SCENARIOS, { message: SCENARIO_MESSAGE })
  scenario?: RoutingScenario | null;

  /** The requested model must match this (`*` matches any run of characters; case ignored). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(PATTERN, { message: PATTERN_MESSAGE })
  modelPattern?: string | null;

  /** For scenario long_context: estimated input tokens above which it holds (default 60000). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_THRESHOLD)
  longContextThreshold?: number | null;

  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(TARGET_MODEL, { message: TARGET_MESSAGE })
  targetModel!: string;

  /** Serve the request from this account group (its platform), whatever the model routes say. */
  @IsOptional()
  @IsUUID('all')
  targetGroupId?: string | null;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string | null;
}

/** Absent fields stay as they are; null clears the nullable ones. The key cannot be changed. */
export class UpdateRoutingRuleDto {
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name?: string;

  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(MAX_PRIORITY)
  priority?: number;

  @IsOptional()
  @IsIn(ROUTING_SCENARIOS, { message: SCENARIO_MESSAGE })
  scenario?: RoutingScenario | null;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(PATTERN, { message: PATTERN_MESSAGE })
  modelPattern?: string | null;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_THRESHOLD)
  longContextThreshold?: number | null;

  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(TARGET_MODEL, { message: TARGET_MESSAGE })
  targetModel?: string;

  @IsOptional()
  @IsUUID('all')
  targetGroupId?: string | null;

  @IsOptionalNotNull()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  note?: string | null;
}

export const ROUTING_RULE_SORT_FIELDS = [
  'evaluation',
  'name',
  'priority',
  'createdAt',
  'updatedAt',
] as const;
export type RoutingRuleSortField = (typeof ROUTING_RULE_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/keys/:id/routing-rules`, over the rules applied now. */
export class KeyRoutingRulesQueryDto extends PageQueryDto {
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsIn(ROUTING_SCENARIOS)
  scenario?: RoutingScenario;

  /** Case-insensitive substring of the name, model pattern, target model or note. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  /** `evaluation` (default): the order requests are matched in. */
  @IsIn(ROUTING_RULE_SORT_FIELDS)
  sortBy: RoutingRuleSortField = 'evaluation';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
}

/** Query string of `GET /admin/api/routing-rules`. */
export class ListRoutingRulesQueryDto extends KeyRoutingRulesQueryDto {
  /** Only the rules that apply to this key, in evaluation order: its own, then the global ones. */
  @IsOptional()
  @IsUUID('all')
  apiKeyId?: string;
}

/** A sample request: which rule (or override) it would take now, on this instance. */
export class ResolveRoutingRuleDto {
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  model!: string;

  @IsOptional()
  @IsUUID('all')
  apiKeyId?: string;

  /** The dialect the sample is in; default anthropic-messages. */
  @IsOptional()
  @IsIn(WIRE_FORMATS)
  format?: WireFormat;

  /** The request body (its `model` is ignored); default `{}`. */
  @IsOptional()
  @IsObject()
  body?: Record<string, unknown>;
}

export class RoutingRuleResponseDto {
  id!: string;
  name!: string;
  apiKeyId!: string | null;
  priority!: number;
  scenario!: RoutingScenario | null;
  /** Lower-case; matched ignoring case. */
  modelPattern!: string | null;
  longContextThreshold!: number | null;
  targetModel!: string;
  targetGroupId!: string | null;
  enabled!: boolean;
  note!: string | null;
  createdAt!: string;
  updatedAt!: string;
}

export class RoutingRuleListResponseDto {
  /** By default in evaluation order: a key's rules before the global ones; each scope by priority, then id. */
  items!: RoutingRuleResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}

export class RoutingDecisionDto {
  /** The model routed on (through the model routes unless platform is set). */
  model!: string;
  platform!: Platform | null;
  groupId!: string | null;
  ruleId!: string | null;
  ruleName!: string;
  override!: boolean;
}

export class RoutingRuleResolutionDto {
  /** Where the sample goes, or null when no rule applies; error for a malformed override. */
  decision!: RoutingDecisionDto | null;
  error!: string | null;
  /** The estimated input tokens the long_context scenario compares (body bytes / 4). */
  estimatedInputTokens!: number;
}
