import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function UsagePage() {
  const { t } = useTranslation('usage');
  return <PageHeader title={t('title')} />;
}
