import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function AuditPage() {
  const { t } = useTranslation('audit');
  return <PageHeader title={t('title')} />;
}
