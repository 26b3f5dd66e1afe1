import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { can, useUser } from '@/auth/session';
import { PageHeader } from '@/components/ui/misc';
import { Tabs } from '@/components/ui/tabs';
import { Pricing } from './pricing';
import { RuntimeSettings } from './runtime';

/** Runtime settings and model prices: admins change them, viewers read them. */
export default function SettingsPage() {
  const { t } = useTranslation('settings');
  const user = useUser();
  const admin = can(user, ['admin']);
  const [tab, setTab] = useState('runtime');
  return (
    <div>
      <PageHeader title={t('title')} description={t('description')} />
      <Tabs
        label={t('tabs.label')}
        value={tab}
        onValueChange={setTab}
        tabs={[
          {
            value: 'runtime',
            label: t('tabs.runtime'),
            content: <RuntimeSettings canChange={admin} />,
          },
          { value: 'pricing', label: t('tabs.pricing'), content: <Pricing canChange={admin} /> },
        ]}
      />
    </div>
  );
}
