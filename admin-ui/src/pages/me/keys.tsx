import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function MyKeysPage() {
  const { t } = useTranslation('me');
  return <PageHeader title={t('title')} />;
}
