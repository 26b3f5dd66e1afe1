import { Global, Module } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger } from './http-traffic-logger';
import { UpstreamHttp } from './upstream-http.service';

@Global()
@Module({
  providers: [
    UpstreamHttp,
    {
      provide: HttpTrafficLogger,
      useFactory: (config: ConfigService) => new HttpTrafficLogger(config),
      inject: [ConfigService],
    },
  ],
  exports: [UpstreamHttp, HttpTrafficLogger],
})
export class HttpModule {}
