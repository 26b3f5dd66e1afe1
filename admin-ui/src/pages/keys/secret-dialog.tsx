import { TriangleAlert } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { CopyButton } from '@/components/ui/misc';
import { ClientSnippets } from '@/pages/setup/client-snippets';

export interface ShownSecret {
  keyId: string;
  name: string;
  secret: string;
  /** Created, or a new secret of an existing key. */
  kind: 'created' | 'rotated';
}

/**
 * The one time a key's secret is shown (after create or rotate): the secret with its copy button
 * and the client snippets filled with it. Closing it forgets the secret on this page.
 */
export function SecretDialog({
  shown,
  onClose,
}: {
  shown: ShownSecret | null;
  onClose: () => void;
}) {
  const { t } = useTranslation('keys');
  return (
    <Dialog
      open={shown !== null}
      onOpenChange={(open) => !open && onClose()}
      wide
      title={
        shown &&
        (shown.kind === 'created'
          ? t('secret.createdTitle', { name: shown.name })
          : t('secret.rotatedTitle', { name: shown.name }))
      }
      footer={
        shown && (
          <>
            <Button variant="primary" onClick={onClose}>
              {t('secret.done')}
            </Button>
          </>
        )
      }
    >
      {shown && (
        <div className="flex flex-col gap-4">
          <p className="flex items-start gap-2 rounded-md border border-warning/40 bg-warning/10 p-3 text-warning">
            <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
            <span>{t('secret.warning')}</span>
          </p>
          <div className="flex flex-col gap-1">
            <span className="font-medium" id="key-secret-label">
              {t('secret.label')}
            </span>
            <div className="flex flex-wrap items-center gap-2">
              <code
                data-testid="key-secret"
                aria-labelledby="key-secret-label"
                className="min-w-0 flex-1 rounded-md border border-border bg-surface-2 px-2.5 py-2 font-mono text-[13px] break-all select-all"
              >
                {shown.secret}
              </code>
              <CopyButton
                value={shown.secret}
                label={t('secret.copy')}
                size="md"
                data-testid="copy-secret"
              />
            </div>
          </div>
          <div className="flex flex-col gap-2">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <h3 className="font-semibold">{t('secret.setup')}</h3>
              <Link
                to={`/admin/setup?key=${shown.keyId}`}
                className="text-[13px] text-primary underline"
                onClick={onClose}
              >
                {t('secret.openSetup')}
              </Link>
            </div>
            <ClientSnippets baseUrl={window.location.origin} secret={shown.secret} />
          </div>
        </div>
      )}
    </Dialog>
  );
}
