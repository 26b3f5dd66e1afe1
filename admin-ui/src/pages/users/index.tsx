import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function UsersPage() {
  const { t } = useTranslation('users');
  return <PageHeader title={t('title')} />;
}
