import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function MyUsagePage() {
  const { t } = useTranslation('me');
  return <PageHeader title={t('title')} />;
}
