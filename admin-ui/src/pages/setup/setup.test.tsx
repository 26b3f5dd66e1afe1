import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { SignedIn } from '@/test/signed-in';
import SetupPage from '@/pages/setup';
import { ADMIN, mockApi, renderPage, withSession } from '@/test/render';
import { rememberSecret } from './secret-memory';
import { clientSetups } from './snippets';

const KEY = {
  id: '55555555-5555-4555-8555-555555555555',
  name: 'ci',
  keyHint: 'sk-sy-…e5f6',
};
const SECRET = 'sk-sy-setup000000000000000000000000000000000';

function page(items: unknown[]) {
  return () => ({ items, total: items.length, page: 1, pageSize: 200 });
}

describe('client setup', () => {
  it('fills the snippets with this server’s address and the secret of a key just created', async () => {
    rememberSecret(KEY.id, SECRET);
    mockApi(withSession(ADMIN, { 'GET /admin/api/keys': page([KEY]) }));
    renderPage(
      <SignedIn>
        <SetupPage />
      </SignedIn>,
      { route: `/admin/setup?key=${KEY.id}`, path: '/admin/setup/*' },
    );
    const snippets = await screen.findByTestId('client-snippets');
    await waitFor(() => expect(snippets).toHaveTextContent(`ANTHROPIC_API_KEY=${SECRET}`));
    expect(snippets).toHaveTextContent(`ANTHROPIC_BASE_URL=${location.origin}`);

    await userEvent.click(screen.getByRole('tab', { name: 'Codex CLI' }));
    expect(screen.getByTestId('client-snippets')).toHaveTextContent(
      `base_url = "${location.origin}/openai/v1"`,
    );
    expect(screen.getByTestId('client-snippets')).toHaveTextContent('wire_api = "responses"');
    await userEvent.click(screen.getByRole('tab', { name: 'Gemini CLI' }));
    expect(screen.getByTestId('client-snippets')).toHaveTextContent(
      `GOOGLE_GEMINI_BASE_URL=${location.origin}/gemini`,
    );
    expect(screen.getByTestId('client-snippets')).toHaveTextContent(`GEMINI_API_KEY=${SECRET}`);
  });

  it('uses the placeholder and says so when the secret is not known; a pasted one fills in', async () => {
    const other = { ...KEY, id: '66666666-6666-4666-8666-666666666666', name: 'old' };
    const api = mockApi(
      withSession(
        { id: 'u-sam', username: 'sam', role: 'user' },
        { 'GET /admin/api/me/keys': page([other]) },
      ),
    );
    renderPage(
      <SignedIn>
        <SetupPage />
      </SignedIn>,
      { route: '/admin/setup', path: '/admin/setup/*' },
    );
    await waitFor(() =>
      expect(screen.getByTestId('client-snippets')).toHaveTextContent('ANTHROPIC_API_KEY=sk-sy-…'),
    );
    expect(screen.getByTestId('setup-secret-state')).toHaveTextContent('shown only once');
    expect(api.calls.some((c) => c.path.startsWith('/admin/api/keys'))).toBe(false);

    await userEvent.type(await screen.findByLabelText('Secret (optional)'), 'sk-sy-pasted');
    const snippets = screen.getByTestId('client-snippets');
    expect(within(snippets).getAllByText(/sk-sy-pasted/).length).toBeGreaterThan(0);
  });
});

describe(clientSetups.name, () => {
  it('puts the address and the key in every client’s snippets, without a double slash', () => {
    const setups = clientSetups('http://relay.example:3000/', 'sk-sy-k');
    for (const setup of setups) {
      const text = setup.snippets.map((s) => s.code).join('\n');
      expect(text).toContain('http://relay.example:3000');
      expect(text).toContain('sk-sy-k');
      expect(text).not.toContain('3000//');
    }
  });
});
