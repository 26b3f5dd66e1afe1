import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function KeysPage() {
  const { t } = useTranslation('keys');
  return <PageHeader title={t('title')} />;
}
