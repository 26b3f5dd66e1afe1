import { Dialog as D } from 'radix-ui';
import { X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { useRef, type ReactNode } from 'react';
import { cn } from '@/lib/cn';
import { Button } from './button';

/** A modal dialog (Radix: focus trapped, Escape closes, labelled by its title). */
export function Dialog({
  open,
  onOpenChange,
  title,
  description,
  children,
  footer,
  wide = false,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
}) {
  const { t } = useTranslation();
  // Without a Radix Trigger, Radix gives focus back to nothing on close: give it back to what
  // had it when the dialog opened (the button that opened it), if that is still on the page.
  const opener = useRef<HTMLElement | null>(null);
  return (
    <D.Root open={open} onOpenChange={onOpenChange}>
      <D.Portal>
        <D.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <D.Content
          className={cn(
            'fixed top-1/2 left-1/2 z-50 flex max-h-[90vh] w-[calc(100vw-24px)] -translate-x-1/2 -translate-y-1/2 flex-col rounded-lg border border-border bg-surface shadow-xl',
            wide ? 'max-w-3xl' : 'max-w-lg',
          )}
          aria-describedby={description ? undefined : undefined}
          onOpenAutoFocus={() => {
            opener.current = document.activeElement as HTMLElement | null;
          }}
          onCloseAutoFocus={(event) => {
            if (opener.current?.isConnected) {
              event.preventDefault();
              opener.current.focus();
            }
          }}
        >
          <div className="flex items-start justify-between gap-2 border-b border-border p-4">
            <div>
              <D.Title className="text-[16px] font-semibold">{title}</D.Title>
              {description ? (
                <D.Description className="text-muted">{description}</D.Description>
              ) : (
                <D.Description className="sr-only">{title}</D.Description>
              )}
            </div>
            <D.Close asChild>
              <Button variant="ghost" size="sm" aria-label={t('actions.close')}>
                <X className="size-4" aria-hidden />
              </Button>
            </D.Close>
          </div>
          <div className="overflow-y-auto p-4">{children}</div>
          {footer && (
            <div className="flex flex-wrap justify-end gap-2 border-t border-border p-4">
              {footer}
            </div>
          )}
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}

/** Asks before a destructive action. */
export function ConfirmDialog({
  open,
  onOpenChange,
  message,
  onConfirm,
  pending = false,
  confirmLabel,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  message: ReactNode;
  onConfirm: () => void;
  pending?: boolean;
  confirmLabel?: string;
}) {
  const { t } = useTranslation();
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={t('confirm.title')}
      footer={
        <>
          <Button onClick={() => onOpenChange(false)}>{t('actions.cancel')}</Button>
          <Button variant="danger" loading={pending} onClick={onConfirm}>
            {confirmLabel ?? t('actions.confirm')}
          </Button>
        </>
      }
    >
      <p>{message}</p>
    </Dialog>
  );
}
