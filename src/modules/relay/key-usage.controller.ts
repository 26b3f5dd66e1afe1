import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeyAuth } from 'src/common/auth/route-access.decorator';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { UsageStatsService } from 'src/modules/usage/usage-stats.service';
import { ANTHROPIC_DIALECT } from './relay.routes';
import { RelayService } from './relay.service';

const dialect = ANTHROPIC_DIALECT;

/**
 * A key's own usage and remaining budgets, readable with that key (x-api-key or Bearer), so users
 * can check their spend without an admin.
 */
@Controller()
export class KeyUsageController {
  constructor(
    private readonly relay: RelayService,
    private readonly stats: UsageStatsService,
    private readonly admission: AdmissionService,
  ) {}

  @ApiKeyAuth()
  @Get(['v1/usage', 'api/v1/usage', 'claude/v1/usage'])
  async usage(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const policy = await this.relay.authenticate(dialect, req);
      const from = Number(req.query.from);
      const to = Number(req.query.to);
      const [usage, budgets] = await Promise.all([
        this.stats.keyUsage(policy.id, {
          from: Number.isFinite(from) ? from : undefined,
          to: Number.isFinite(to) ? to : undefined,
        }),
        this.admission.getBudgetStatus(policy),
      ]);
      res.json({ key: { id: policy.id, name: policy.name }, usage, budgets });
    } catch (error) {
      this.relay.writeError(dialect, res, error);
    }
  }
}
