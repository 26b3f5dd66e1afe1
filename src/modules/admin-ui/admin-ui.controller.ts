import { Controller, Get, Inject, Next, Param, Redirect, Req, Res } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Public } from 'src/common/auth/route-access.decorator';
import {
  ENCODINGS,
  negotiateEncoding,
  type AdminUiBundle,
  type Representation,
} from './admin-ui-bundle';
import { AdminUiException, AdminUiExceptionCode } from './admin-ui.exception';

export const ADMIN_UI_BUNDLE = Symbol('ADMIN_UI_BUNDLE');

/** Hashed file names never change content: browsers and proxies may keep them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * The admin UI: /admin and every client-side route under it answer index.html (revalidated on each
 * load, so a new build is picked up at once); /admin/assets/* are the build's hashed files, cached
 * for good and sent precompressed; /admin/api/* is left to the admin API (an unknown API route
 * keeps its JSON 404).
 */
@Public()
@Controller()
export class AdminUiController {
  constructor(@Inject(ADMIN_UI_BUNDLE) private readonly bundle: AdminUiBundle) {}

  @Get('/')
  @Redirect('/admin', 302)
  root(): void {}

  @Get('admin')
  index(@Req() req: Request, @Res() res: Response): void {
    this.sendPage(req, res);
  }

  @Get('admin/*path')
  route(
    @Param('path') path: string[] | string,
    @Req() req: Request,
    @Res() res: Response,
    @Next() next: NextFunction,
  ): void {
    const segments = Array.isArray(path) ? path : path.split('/');
    // Express matches routes case-insensitively, the admin API's included.
    const first = segments[0]?.toLowerCase();
    if (first === 'api') {
      next();
      return;
    }
    if (first === 'assets') {
      this.sendAsset(segments.slice(1).join('/'), req, res);
      return;
    }
    this.sendPage(req, res);
  }

  private sendPage(req: Request, res: Response): void {
    res.set(this.bundle.pageHeaders);
    res.set({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    this.send(req, res, this.bundle.page);
  }

  private sendAsset(name: string, req: Request, res: Response): void {
    const asset = this.bundle.assets.get(name);
    if (asset === undefined) {
      throw new AdminUiException(
        AdminUiExceptionCode.ASSET_NOT_FOUND,
        this.bundle.built ? `no admin UI asset /admin/assets/${name}` : 'the admin UI is not built',
      );
    }
    const available = ENCODINGS.filter((encoding) => asset.encoded[encoding] !== undefined);
    const encoding = negotiateEncoding(req.headers['accept-encoding'], available);
    res.set({
      'content-type': asset.contentType,
      'cache-control': IMMUTABLE,
      'x-content-type-options': 'nosniff',
    });
    if (available.length > 0) res.set('vary', 'accept-encoding');
    if (encoding !== undefined) res.set('content-encoding', encoding);
    this.send(req, res, encoding === undefined ? asset.identity : asset.encoded[encoding]!);
  }

  private send(req: Request, res: Response, representation: Representation): void {
    res.set('etag', representation.etag);
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, representation.etag)) {
      res.status(304).end();
      return;
    }
    res.set('content-length', String(representation.body.length));
    res.status(200).end(representation.body);
  }
}

/** If-None-Match: `*` or a list of entity tags, compared weakly (RFC 9110 13.1.2). */
function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .includes(etag);
}
