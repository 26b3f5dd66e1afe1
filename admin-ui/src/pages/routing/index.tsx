import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { can, MANAGERS, useUser } from '@/auth/session';
import { PageHeader } from '@/components/ui/misc';
import { Tabs } from '@/components/ui/tabs';
import { ModelRoutes } from './routes';
import { RoutingRules } from './rules';

/** Routing rules and model routes: staff read them, admins and operators change them. */
export default function RoutingPage() {
  const { t } = useTranslation('routing');
  const user = useUser();
  const canChange = can(user, MANAGERS);
  const [tab, setTab] = useState('rules');
  return (
    <div>
      <PageHeader title={t('title')} description={t('description')} />
      <Tabs
        label={t('tabs.label')}
        value={tab}
        onValueChange={setTab}
        tabs={[
          {
            value: 'rules',
            label: t('tabs.rules'),
            content: <RoutingRules canChange={canChange} />,
          },
          {
            value: 'routes',
            label: t('tabs.routes'),
            content: <ModelRoutes canChange={canChange} />,
          },
        ]}
      />
    </div>
  );
}
