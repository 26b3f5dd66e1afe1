import { Controller, Get, Header, Redirect, Res } from '@nestjs/common';
import type { Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from 'src/common/auth/route-access.decorator';
import { adminPageHeaders } from './admin-page-headers';

// The built admin UI (admin-ui/dist). Until the admin UI issue lands, admin-ui/index.html is a
// small login page over the admin API.
const CANDIDATES = [
  join(__dirname, '..', '..', '..', 'admin-ui', 'dist', 'index.html'),
  join(__dirname, '..', '..', '..', 'admin-ui', 'index.html'),
  join(__dirname, '..', '..', '..', '..', 'admin-ui', 'index.html'),
];

function loadPage(): string {
  const file = CANDIDATES.find((candidate) => existsSync(candidate));
  return file === undefined
    ? '<!doctype html><title>Switchyard</title><p>Admin UI not built.</p>'
    : readFileSync(file, 'utf8');
}

@Controller()
export class AdminUiController {
  private readonly page = loadPage();
  private readonly headers = adminPageHeaders(this.page);

  @Public()
  @Get('/')
  @Redirect('/admin', 302)
  root(): void {}

  @Public()
  @Get('admin')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  index(@Res({ passthrough: true }) res: Response): string {
    res.set(this.headers);
    return this.page;
  }
}
