import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function SetupPage() {
  const { t } = useTranslation('setup');
  return <PageHeader title={t('title')} />;
}
