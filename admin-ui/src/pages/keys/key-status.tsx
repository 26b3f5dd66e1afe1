import { useTranslation } from 'react-i18next';
import { Badge } from '@/components/ui/misc';
import { formatDate } from '@/lib/format';
import type { ApiKey } from './key-form-model';

const STATUS_TONE = {
  active: 'success',
  disabled: 'neutral',
  expired: 'warning',
  deleted: 'danger',
} as const;

export function StatusBadge({ status }: { status: ApiKey['status'] }) {
  const { t } = useTranslation('keys');
  return <Badge tone={STATUS_TONE[status]}>{t(`status.${status}`)}</Badge>;
}

/** The key's expiry in words: a date, "N days after first use", or never. */
export function useExpiryText(): (key: ApiKey) => string {
  const { t } = useTranslation('keys');
  return (key) => {
    if (key.effectiveExpiresAt) return formatDate(key.effectiveExpiresAt);
    if (key.expiresAfterDays) return t('afterFirstUse', { days: key.expiresAfterDays });
    return t('never');
  };
}
