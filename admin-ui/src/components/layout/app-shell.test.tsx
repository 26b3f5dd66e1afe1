import { fireEvent, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes, useLocation, useNavigate } from 'react-router';
import { describe, expect, it } from 'vitest';
import { AppShell } from '@/components/layout/app-shell';
import { ADMIN, mockApi, renderPage, withSession } from '@/test/render';
import { SignedIn } from '@/test/signed-in';

/** A page that navigates without the side navigation (as history or a page's own link does). */
function Page() {
  const navigate = useNavigate();
  const location = useLocation();
  return (
    <button type="button" onClick={() => void navigate('/admin/keys')}>
      {`go from ${location.pathname}`}
    </button>
  );
}

function renderShell() {
  mockApi(withSession(ADMIN, {}));
  renderPage(
    <SignedIn>
      <Routes>
        <Route element={<AppShell />}>
          <Route path="*" element={<Page />} />
        </Route>
      </Routes>
    </SignedIn>,
    { route: '/admin/dashboard' },
  );
}

describe('app shell drawer', () => {
  it('closes when the location changes', async () => {
    renderShell();
    await userEvent.click(await screen.findByRole('button', { name: 'Menu' }));
    expect(screen.getByRole('dialog', { name: 'Menu' })).toBeInTheDocument();
    // Something else navigates while the drawer is open (history, a redirect): the page behind
    // the modal is inert to the pointer, so the click is dispatched directly.
    fireEvent.click(screen.getByRole('button', { name: 'go from /admin/dashboard', hidden: true }));
    await screen.findByRole('button', { name: 'go from /admin/keys' });
    await waitFor(() =>
      expect(screen.queryByRole('dialog', { name: 'Menu' })).not.toBeInTheDocument(),
    );
    // It opens again on the new page.
    await userEvent.click(screen.getByRole('button', { name: 'Menu' }));
    expect(screen.getByRole('dialog', { name: 'Menu' })).toBeInTheDocument();
  });

  it('closes with Escape and with its close button', async () => {
    renderShell();
    await userEvent.click(await screen.findByRole('button', { name: 'Menu' }));
    expect(screen.getByRole('button', { name: 'Close menu' })).toHaveFocus();
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    await userEvent.click(screen.getByRole('button', { name: 'Menu' }));
    await userEvent.click(screen.getByRole('button', { name: 'Close menu' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});
