import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CodeBlock } from '@/components/ui/misc';
import { Tabs } from '@/components/ui/tabs';
import { clientSetups, SECRET_PLACEHOLDER, type ClientId } from './snippets';

/**
 * Copy-ready setup of every client for one key: a tab per client, each snippet a code block with
 * its copy button. Without `secret`, the snippets carry the placeholder (the secret is shown only
 * at creation). Used by the setup page and by the keys pages' secret dialog.
 */
export function ClientSnippets({ baseUrl, secret }: { baseUrl: string; secret?: string | null }) {
  const { t } = useTranslation('setup');
  const [client, setClient] = useState<ClientId>('claudeCode');
  const setups = clientSetups(baseUrl, secret || SECRET_PLACEHOLDER);
  return (
    <div data-testid="client-snippets">
      <Tabs
        label={t('clientsLabel')}
        value={client}
        onValueChange={(value) => setClient(value as ClientId)}
        tabs={setups.map((setup) => ({
          value: setup.client,
          label: t(`clients.${setup.client}`),
          content: (
            <div className="flex flex-col gap-3">
              {setup.snippets.map((snippet) => {
                const what = t(`snippets.${snippet.id}` as 'snippets.curlEnv');
                return (
                  <div key={snippet.id} className="flex min-w-0 flex-col gap-1">
                    <p className="text-[13px] text-muted">{what}</p>
                    <CodeBlock code={snippet.code} ariaLabel={t('copySnippet', { what })} />
                  </div>
                );
              })}
            </div>
          ),
        }))}
      />
    </div>
  );
}
