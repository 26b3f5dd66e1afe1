import { useTranslation } from 'react-i18next';
import { Route, Routes, useSearchParams } from 'react-router';
import { Plus } from 'lucide-react';
import { MANAGERS, can, useSession } from '@/auth/session';
import { LinkButton } from '@/components/ui/link-button';
import { PageHeader } from '@/components/ui/misc';
import { Tabs } from '@/components/ui/tabs';
import { AccountFormPage } from './account-form';
import { AccountDetailPage } from './detail';
import { GroupsPanel } from './groups';
import { AccountsList } from './list';
import { OAuthWizard } from './oauth-wizard';

/**
 * The accounts pages: the list and the groups (tabs, `?tab=groups`), `new` (per-type form),
 * `oauth/:provider` (sign-in wizards), `:id` (detail) and `:id/edit`.
 */
export default function AccountsPage() {
  return (
    <Routes>
      <Route index element={<AccountsHome />} />
      <Route path="new" element={<AccountFormPage mode="create" />} />
      <Route path="oauth/:provider" element={<OAuthWizard />} />
      <Route path=":id" element={<AccountDetailPage />} />
      <Route path=":id/edit" element={<AccountFormPage mode="edit" />} />
    </Routes>
  );
}

function AccountsHome() {
  const { t } = useTranslation('accounts');
  const { user } = useSession();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'groups' ? 'groups' : 'accounts';
  return (
    <>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          user?.role === 'viewer' ? (
            <span data-testid="read-only-note" className="text-[13px] text-muted">
              {t('list.readOnly')}
            </span>
          ) : (
            can(user, MANAGERS) && (
              <>
                <LinkButton to="/admin/accounts/oauth/claude" size="sm">
                  {t('oauth.start.claude')}
                </LinkButton>
                <LinkButton to="/admin/accounts/new" variant="primary" data-testid="add-account">
                  <Plus className="size-4" aria-hidden />
                  {t('list.add')}
                </LinkButton>
              </>
            )
          )
        }
      />
      <Tabs
        label={t('title')}
        value={tab}
        onValueChange={(value) => setParams(value === 'groups' ? { tab: 'groups' } : {})}
        tabs={[
          { value: 'accounts', label: t('tabs.accounts'), content: <AccountsList /> },
          { value: 'groups', label: t('tabs.groups'), content: <GroupsPanel /> },
        ]}
      />
    </>
  );
}
