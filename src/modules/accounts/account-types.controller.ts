import { Controller, Get } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import { AccountTypesService } from './account-types.service';
import { AccountTypeListResponseDto } from './dto/account-type.response.dto';

@Controller('admin/api/account-types')
export class AccountTypesController {
  constructor(private readonly types: AccountTypesService) {}

  /** Every account type with its credential fields, default base URL and capabilities. */
  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(): AccountTypeListResponseDto {
    return this.types.list();
  }
}
