import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function RoutingPage() {
  const { t } = useTranslation('routing');
  return <PageHeader title={t('title')} />;
}
