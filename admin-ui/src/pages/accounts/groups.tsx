import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Pencil, Plus, Trash2 } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { MANAGERS, can, useSession } from '@/auth/session';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { Badge, ErrorState } from '@/components/ui/misc';
import { DataTable } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import {
  useAccountTypes,
  useGroups,
  useInvalidateAccounts,
  type AccountGroup,
  type Platform,
} from './api';
import { accountFieldErrors } from './field-errors';

/** Account groups: list, create, edit (name, description, members), delete. */
export function GroupsPanel() {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const { user } = useSession();
  const manager = can(user, MANAGERS);
  const groups = useGroups();
  const invalidate = useInvalidateAccounts();
  const toast = useToast();
  const [editing, setEditing] = useState<AccountGroup | 'new' | null>(null);
  const [deleting, setDeleting] = useState<AccountGroup | null>(null);
  const remove = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE('/admin/api/account-groups/{id}', { params: { path: { id } } })),
    onSettled: invalidate,
  });

  return (
    <div className="flex flex-col gap-3">
      {manager && (
        <div className="flex justify-end">
          <Button variant="primary" data-testid="add-group" onClick={() => setEditing('new')}>
            <Plus className="size-4" aria-hidden />
            {t('groups.add')}
          </Button>
        </div>
      )}
      <DataTable<AccountGroup>
        caption={t('groups.title')}
        rows={groups.data}
        loading={groups.isLoading}
        error={groups.error}
        onRetry={() => void groups.refetch()}
        rowKey={(group) => group.id}
        empty={t('groups.empty')}
        columns={[
          {
            key: 'name',
            header: t('fields.name'),
            cell: (group) => <span className="font-medium">{group.name}</span>,
          },
          {
            key: 'platform',
            header: t('groups.platform'),
            cell: (group) => <Badge>{group.platform}</Badge>,
          },
          {
            key: 'description',
            header: t('groups.description'),
            cell: (group) => group.description ?? <span className="text-muted">—</span>,
          },
          {
            key: 'members',
            header: t('groups.members'),
            cell: (group) => t('groups.memberCount', { count: group.accountIds.length }),
          },
          ...(manager
            ? [
                {
                  key: 'actions',
                  header: <span className="sr-only">{t('list.actions')}</span>,
                  cell: (group: AccountGroup) => (
                    <div className="flex gap-1">
                      <Button
                        size="sm"
                        aria-label={`${tc('actions.edit')} ${group.name}`}
                        title={tc('actions.edit')}
                        onClick={() => setEditing(group)}
                      >
                        <Pencil className="size-4" aria-hidden />
                      </Button>
                      <Button
                        size="sm"
                        variant="ghost"
                        className="text-danger"
                        aria-label={`${tc('actions.delete')} ${group.name}`}
                        title={tc('actions.delete')}
                        onClick={() => setDeleting(group)}
                      >
                        <Trash2 className="size-4" aria-hidden />
                      </Button>
                    </div>
                  ),
                },
              ]
            : []),
        ]}
      />
      {editing && (
        <GroupDialog
          group={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(null)}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        message={tc('confirm.delete', { name: deleting?.name ?? '' })}
        confirmLabel={tc('actions.delete')}
        pending={remove.isPending}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: () => {
              toast('success', t('groups.deleted', { name: deleting.name }));
              setDeleting(null);
            },
            onError: (error) => toast('error', error.message),
          })
        }
      />
    </div>
  );
}

function GroupDialog({ group, onClose }: { group?: AccountGroup; onClose: () => void }) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const invalidate = useInvalidateAccounts();
  const types = useAccountTypes();
  const platforms = useMemo(
    () => [...new Set((types.data ?? []).map((type) => type.platform))],
    [types.data],
  );
  const [name, setName] = useState(group?.name ?? '');
  const [platform, setPlatform] = useState<Platform | ''>(group?.platform ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [members, setMembers] = useState<string[]>(group?.accountIds ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const candidates = useQuery({
    queryKey: ['accounts', 'list', { platform, pageSize: 200, sortBy: 'name' }],
    enabled: platform !== '',
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/accounts', {
          params: {
            query: {
              platform: platform as Platform,
              page: 1,
              pageSize: 200,
              sortBy: 'name',
              sortOrder: 'asc',
            },
          },
        }),
      ),
  });

  const save = useMutation({
    mutationFn: async () => {
      const text = { name: name.trim(), description: description.trim() || null };
      if (!group) {
        return unwrap(
          await api.POST('/admin/api/account-groups', {
            body: { ...text, platform: platform as Platform, accountIds: members },
          }),
        );
      }
      const path = { params: { path: { id: group.id } } };
      await unwrap(await api.PATCH('/admin/api/account-groups/{id}', { ...path, body: text }));
      return unwrap(
        await api.PUT('/admin/api/account-groups/{id}/members', {
          ...path,
          body: { accountIds: members },
        }),
      );
    },
    onSettled: invalidate,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    save.mutate(undefined, {
      onSuccess: (saved) => {
        toast('success', tc('state.saved'));
        onClose();
        return saved;
      },
      onError: (error) =>
        setErrors(accountFieldErrors(error, ['name', 'platform', 'description', 'accountIds'])),
    });
  };

  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={group ? t('groups.editTitle', { name: group.name }) : t('groups.add')}
      wide
    >
      <form onSubmit={submit} noValidate className="flex flex-col gap-3">
        <Field label={t('fields.name')} required error={errors.name}>
          {(props) => (
            <Input
              {...props}
              name="name"
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
          )}
        </Field>
        <Field
          label={t('groups.platform')}
          required
          error={errors.platform}
          hint={group ? t('groups.platformFixed') : undefined}
        >
          {(props) => (
            <Select
              {...props}
              name="platform"
              value={platform}
              disabled={!!group}
              onChange={(event) => {
                setPlatform(event.target.value as Platform);
                setMembers([]);
              }}
            >
              <option value="">{t('form.choose')}</option>
              {platforms.map((candidate) => (
                <option key={candidate} value={candidate}>
                  {candidate}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t('groups.description')} error={errors.description}>
          {(props) => (
            <Textarea
              {...props}
              name="description"
              className="min-h-12 font-sans"
              value={description}
              onChange={(event) => setDescription(event.target.value)}
            />
          )}
        </Field>
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 font-medium">{t('groups.members')}</legend>
          {platform === '' ? (
            <p className="text-muted">{t('groups.choosePlatform')}</p>
          ) : candidates.error ? (
            <ErrorState error={candidates.error} />
          ) : (candidates.data?.items ?? []).length === 0 ? (
            <p className="text-muted">
              {candidates.isLoading ? tc('state.loading') : t('groups.noAccounts')}
            </p>
          ) : (
            <div className="grid max-h-60 grid-cols-1 gap-1.5 overflow-y-auto sm:grid-cols-2">
              {(candidates.data?.items ?? []).map((account) => (
                <Checkbox
                  key={account.id}
                  label={account.name}
                  checked={members.includes(account.id)}
                  onChange={(event) =>
                    setMembers(
                      event.target.checked
                        ? [...members, account.id]
                        : members.filter((id) => id !== account.id),
                    )
                  }
                />
              ))}
            </div>
          )}
          {errors.accountIds && (
            <p role="alert" className="text-[13px] text-danger">
              {errors.accountIds}
            </p>
          )}
        </fieldset>
        {errors[''] && (
          <p role="alert" className="text-danger">
            {errors['']}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>{tc('actions.cancel')}</Button>
          <Button type="submit" variant="primary" loading={save.isPending} data-testid="group-save">
            {group ? tc('actions.save') : tc('actions.create')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
