import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Plus } from 'lucide-react';
import { can, useUser } from '@/auth/session';
import { Button } from '@/components/ui/button';
import { PageHeader } from '@/components/ui/misc';
import { Tabs } from '@/components/ui/tabs';
import { DeliveriesPanel } from './deliveries';
import { TargetsPanel } from './targets';

/**
 * Notification targets and their delivery log (`?tab=deliveries`, its filters in the address
 * too): admins change them, viewers read them.
 */
export default function NotificationsPage() {
  const { t } = useTranslation('notifications');
  const user = useUser();
  const admin = can(user, ['admin']);
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'deliveries' ? 'deliveries' : 'targets';
  const [creating, setCreating] = useState(false);
  return (
    <div>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          admin ? (
            <Button variant="primary" onClick={() => setCreating(true)}>
              <Plus className="size-4" aria-hidden />
              {t('newTarget')}
            </Button>
          ) : (
            <span data-testid="read-only-note" className="text-[13px] text-muted">
              {t('readOnly')}
            </span>
          )
        }
      />
      <Tabs
        label={t('tabs.label')}
        value={tab}
        onValueChange={(value) => setParams(value === 'deliveries' ? { tab: 'deliveries' } : {})}
        tabs={[
          {
            value: 'targets',
            label: t('tabs.targets'),
            content: (
              <TargetsPanel canChange={admin} creating={creating} onCreatingChange={setCreating} />
            ),
          },
          {
            value: 'deliveries',
            label: t('tabs.deliveries'),
            content: <DeliveriesPanel canChange={admin} />,
          },
        ]}
      />
    </div>
  );
}
