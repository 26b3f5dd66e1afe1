import { Controller, Get, Header, Query, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { Roles } from 'src/common/auth/route-access.decorator';
import { AuditService } from './audit.service';
import { AuditFilterQueryDto, AuditListQueryDto } from './dto/audit-query.dto';
import type { AuditPageDto } from './dto/audit-response.dto';

/** The audit trail, for admins and viewers (operators change things; they do not audit them). */
@Roles('admin', 'viewer')
@Controller('admin/api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  list(@Query() query: AuditListQueryDto): Promise<AuditPageDto> {
    return this.audit.list(query);
  }

  /** The same filters as the list, every matching row, streamed. */
  @Get('export.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', 'attachment; filename="switchyard-audit.csv"')
  @Header('cache-control', 'no-store')
  export(@Query() query: AuditFilterQueryDto): StreamableFile {
    return new StreamableFile(Readable.from(this.audit.exportCsv(query)));
  }
}
