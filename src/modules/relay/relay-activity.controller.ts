import { Controller, Get } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import { ConfigService } from 'src/config/config.service';
import type { RelayLiveDto } from './dto/relay-live.dto';
import { RelayActivity } from './relay-activity';

/** The relay's live counts, next to the usage statistics they complement. */
@Roles('admin', 'operator', 'viewer')
@Controller('admin/api/usage')
export class RelayActivityController {
  constructor(
    private readonly activity: RelayActivity,
    private readonly config: ConfigService,
  ) {}

  /** Requests and streams in flight now on the instance that answers (each counts its own). */
  @Get('live')
  live(): RelayLiveDto {
    return {
      at: new Date().toISOString(),
      instance: this.config.instanceId,
      inFlight: this.activity.inFlight,
      streams: this.activity.streaming,
    };
  }
}
