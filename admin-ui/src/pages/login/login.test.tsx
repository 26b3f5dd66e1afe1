import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { App } from '@/app';
import { render } from '@testing-library/react';
import { apiError, mockApi } from '@/test/render';

describe('login', () => {
  it('signs in and lands on the dashboard', async () => {
    const api = mockApi({
      'POST /admin/api/auth/login': () => ({
        token: 'tok',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        user: { id: 'u1', username: 'admin', role: 'admin' },
      }),
    });
    window.history.pushState({}, '', '/admin');
    render(<App />);
    await userEvent.type(screen.getByLabelText('Username'), 'admin');
    await userEvent.type(screen.getByLabelText('Password'), 'secret');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('signed-in-as')).toHaveTextContent('admin'));
    expect(api.calls[0]).toMatchObject({
      method: 'POST',
      path: '/admin/api/auth/login',
      body: { username: 'admin', password: 'secret' },
    });
    expect(sessionStorage.getItem('switchyard.token')).toBe('tok');
    expect(window.location.pathname).toBe('/admin/dashboard');
  });

  it("shows the server's message when the password is wrong", async () => {
    mockApi({
      'POST /admin/api/auth/login': () =>
        apiError(401, 'INVALID_CREDENTIALS', 'invalid username or password'),
    });
    render(<App />);
    await userEvent.type(screen.getByLabelText('Username'), 'admin');
    await userEvent.type(screen.getByLabelText('Password'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('invalid username or password');
    expect(sessionStorage.getItem('switchyard.token')).toBeNull();
  });
});
