import { locale } from '@/i18n';

/** A date and time in few characters (table cells): `12/3/26, 2:07 PM`, `2026/12/3 14:07`. */
export function formatShortDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(date);
}
