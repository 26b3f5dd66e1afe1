import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import {
  ListPriceOverridesQueryDto,
  ListPricesQueryDto,
  ModelParamDto,
  PriceLookupQueryDto,
  PriceOverrideRequestDto,
  type PriceListDto,
  type PriceLookupDto,
  type PriceOverrideDto,
  type PriceOverrideListDto,
} from './dto/pricing.dto';
import { PricingService } from './pricing.service';

/**
 * Prices for admins, in US dollars per million tokens. Model names with `/` go URL-encoded in
 * the path (`anthropic%2Fclaude-sonnet-4`).
 */
@Roles('admin', 'operator', 'viewer')
@Controller('admin/api/pricing')
export class PricingController {
  constructor(private readonly pricing: PricingService) {}

  /** Every model in the effective table, and the default price for the others. */
  @Get('models')
  models(@Query() query: ListPricesQueryDto): PriceListDto {
    return this.pricing.list(query);
  }

  /** The price a request for this model would be billed at, and where it comes from. */
  @Get('lookup')
  lookup(@Query() query: PriceLookupQueryDto): PriceLookupDto {
    return this.pricing.describe(query.model);
  }

  @Get('overrides')
  overrides(@Query() query: ListPriceOverridesQueryDto): PriceOverrideListDto {
    return this.pricing.listOverrides(query);
  }

  // Prices decide what every key is billed: a setting, so admins only.
  @Roles('admin')
  @Put('overrides/:model')
  setOverride(
    @Param() params: ModelParamDto,
    @Body() body: PriceOverrideRequestDto,
  ): Promise<PriceOverrideDto> {
    return this.pricing.setOverride(params.model, body);
  }

  @Roles('admin')
  @Delete('overrides/:model')
  @HttpCode(204)
  deleteOverride(@Param() params: ModelParamDto): Promise<void> {
    return this.pricing.deleteOverride(params.model);
  }
}
