import { useTranslation } from 'react-i18next';
import { PageHeader } from '@/components/ui/misc';

export default function AccountsPage() {
  const { t } = useTranslation('accounts');
  return <PageHeader title={t('title')} />;
}
