import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import AccountsPage from '.';
import { account } from './fixtures';
import { exchangeInput } from './oauth-wizard';

const LOGIN = {
  authorizeUrl: 'https://claude.com/cai/oauth/authorize?code=true&state=st-1',
  state: 'st-1',
  redirectUri: 'https://platform.claude.com/oauth/code/callback',
  expiresAt: '2030-01-01T00:10:00.000Z',
  variant: 'login',
  scopes: ['user:inference'],
};

const created = account({
  id: 'a-oauth',
  name: 'me@example.com',
  type: 'claude-oauth',
  credentials: {
    type: 'claude-oauth',
    readable: true,
    accessTokenHint: 'sk-ant-…wxyz',
    hasRefreshToken: true,
    expiresAt: '2030-01-01T08:00:00.000Z',
  },
  subscription: { plan: 'max', email: 'me@example.com', organizationName: 'Acme' },
});

function renderWizard(route: string) {
  return renderPage(<AccountsPage />, { route, path: '/admin/accounts/*' });
}

describe('OAuth wizard', { timeout: 20_000 }, () => {
  it('walks a Claude login from the sign-in link to the new account’s profile', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'POST /admin/api/oauth/claude/authorize': () => LOGIN,
        'POST /admin/api/oauth/claude/exchange': () => created,
      }),
    );
    renderWizard('/admin/accounts/oauth/claude');
    expect(screen.getByText('Get the sign-in link first.')).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText(/Setup token/));
    await userEvent.click(await screen.findByTestId('oauth-authorize'));

    // Step 1: the link opens in a new tab.
    const link = await screen.findByTestId('oauth-authorize-url');
    expect(link).toHaveAttribute('href', LOGIN.authorizeUrl);
    expect(link).toHaveAttribute('target', '_blank');
    expect(screen.getByRole('button', { name: 'Copy link' })).toBeInTheDocument();
    expect(api.calls.at(-1)).toMatchObject({
      path: '/admin/api/oauth/claude/authorize',
      body: { setupToken: true },
    });

    // Step 2: the whole callback URL, a name and a proxy.
    await userEvent.type(
      screen.getByTestId('oauth-code'),
      'https://platform.claude.com/oauth/code/callback?code=abc&state=st-1',
    );
    await userEvent.type(screen.getByLabelText(/^Name/), 'claude-max');
    await userEvent.type(screen.getByLabelText(/^Proxy/), 'socks5://127.0.0.1:1080');
    await userEvent.click(screen.getByTestId('oauth-exchange'));

    // Step 3: the profile the exchange returned.
    const profile = await screen.findByTestId('oauth-profile');
    expect(profile).toHaveTextContent('me@example.com');
    expect(profile).toHaveTextContent('max');
    expect(profile).toHaveTextContent('Acme');
    expect(screen.getByTestId('oauth-open-account')).toHaveAttribute(
      'href',
      '/admin/accounts/a-oauth',
    );
    expect(api.calls.find((call) => call.path.endsWith('/exchange'))?.body).toEqual({
      state: 'st-1',
      callbackUrl: 'https://platform.claude.com/oauth/code/callback?code=abc&state=st-1',
      name: 'claude-max',
      proxy: 'socks5://127.0.0.1:1080',
    });
  });

  it("shows the server's refusal of the pasted code at the paste box", async () => {
    mockApi(
      withSession(ADMIN, {
        'POST /admin/api/oauth/codex/authorize': () => ({ ...LOGIN, state: 'cx' }),
        'POST /admin/api/oauth/codex/exchange': () =>
          apiError(
            400,
            'CODEX_LOGIN_STATE_MISMATCH',
            "the callback URL's state is another login's",
          ),
      }),
    );
    renderWizard('/admin/accounts/oauth/codex');
    await userEvent.click(await screen.findByTestId('oauth-authorize'));
    await userEvent.type(await screen.findByTestId('oauth-code'), 'code-only');
    await userEvent.click(screen.getByTestId('oauth-exchange'));
    const code = screen.getByTestId('oauth-code');
    await waitFor(() => expect(code).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByRole('alert')).toHaveTextContent(
      "the callback URL's state is another login's",
    );
  });

  it('renews an existing account’s login and imports a Gemini CLI file', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/accounts/a-g': () => ({
          ...created,
          id: 'a-g',
          name: 'gem',
          recentHealthEvents: [],
        }),
        'POST /admin/api/oauth/google/import': () => ({
          ...created,
          id: 'a-g',
          name: 'gem',
          credentials: { type: 'gemini-oauth', readable: true, projectId: 'proj-1' },
        }),
      }),
    );
    renderWizard('/admin/accounts/oauth/google?accountId=a-g');
    expect(
      await screen.findByRole('heading', { name: 'Sign in again for gem' }),
    ).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText(/Contents of/));
    await userEvent.paste('{"refresh_token":"1//x"}');
    await userEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect(await screen.findByTestId('oauth-profile')).toHaveTextContent('proj-1');
    expect(api.calls.find((call) => call.path.endsWith('/import'))?.body).toEqual({
      credentials: '{"refresh_token":"1//x"}',
      accountId: 'a-g',
    });
  });
});

describe(exchangeInput.name, () => {
  it('sends URLs and query strings as callbackUrl and anything else as the code', () => {
    expect(exchangeInput(' http://localhost:1455/auth/callback?code=a&state=b ')).toEqual({
      callbackUrl: 'http://localhost:1455/auth/callback?code=a&state=b',
    });
    expect(exchangeInput('?code=a&state=b')).toEqual({ callbackUrl: '?code=a&state=b' });
    expect(exchangeInput('Ab12#q9F')).toEqual({ code: 'Ab12#q9F' });
  });
});
