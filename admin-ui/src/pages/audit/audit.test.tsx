import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ADMIN, apiError, mockApi, renderPage, withSession } from '@/test/render';
import { SignedIn } from '@/test/signed-in';
import AuditPage from './index';
import { AuditDiff, type AuditEntry } from './audit-diff';

// Forms typed key by key, and first renders, take a while when the suites run in parallel on a
// busy machine: wait longer for events (never for the clock).

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 'a1',
    at: '2025-06-01T12:00:00.000Z',
    actor: 'admin',
    actorId: 'u-admin',
    actorRole: 'admin',
    source: '127.0.0.1',
    action: 'keys.update',
    targetType: 'keys',
    targetId: 'k-1',
    outcome: 'success',
    status: 200,
    requestId: 'req-1',
    diff: [
      { field: 'name', before: 'old name', after: 'new name' },
      { field: 'limits.concurrency', before: 2, after: 4 },
      { field: 'secretHash', before: '[REDACTED]', after: '[REDACTED]', redacted: true },
      { field: 'tags', after: ['team-a'] },
    ],
    before: { name: 'old name', limits: { concurrency: 2 }, enabled: true },
    after: { name: 'new name', limits: { concurrency: 4 }, enabled: true, tags: ['team-a'] },
    ...overrides,
  };
}

const page = (items: AuditEntry[]) => ({ items, total: items.length, page: 1, pageSize: 50 });

function show() {
  return renderPage(
    <SignedIn>
      <AuditPage />
    </SignedIn>,
  );
}

function lastQuery(calls: Array<{ path: string }>): URLSearchParams {
  const last = calls.filter((c) => c.path.startsWith('/admin/api/audit?')).at(-1)!;
  return new URL(last.path, 'http://x').searchParams;
}

describe('audit page', () => {
  it('lists entries with actor, action, target and outcome', async () => {
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/audit': () =>
          page([
            entry(),
            entry({
              id: 'a2',
              actor: 'anonymous',
              actorRole: null,
              action: 'auth.login_failed',
              targetType: 'users',
              targetId: 'mallory',
              outcome: 'INVALID_CREDENTIALS',
              status: 401,
              diff: null,
              before: null,
              after: null,
            }),
          ]),
      }),
    );
    show();
    const failed = (await screen.findByRole('button', { name: 'auth.login_failed' })).closest(
      'tr',
    )!;
    expect(within(failed).getByText('INVALID_CREDENTIALS · 401')).toBeInTheDocument();
    expect(within(failed).getByText('mallory')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'keys.update' })).toBeInTheDocument();
  });

  it('sends the filters in the list query and in the CSV export', async () => {
    const api = mockApi(
      withSession(ADMIN, {
        'GET /admin/api/audit': () => page([entry()]),
        'GET /admin/api/audit/export.csv': () =>
          new Response('id,at\r\n', { headers: { 'content-type': 'text/csv' } }),
      }),
    );
    // jsdom has no object URLs; the download only needs them to exist.
    Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:csv'), revokeObjectURL: vi.fn() });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    show();
    await screen.findByRole('button', { name: 'keys.update' });
    await userEvent.type(screen.getByLabelText('Actor'), 'admin');
    await userEvent.type(screen.getByLabelText('Action'), 'accounts.*');
    await userEvent.type(screen.getByLabelText('Target type'), 'accounts');
    await userEvent.type(screen.getByLabelText('Target id'), 'acc-9');
    await userEvent.selectOptions(screen.getByLabelText('Outcome'), 'failure');
    await userEvent.type(screen.getByLabelText('From'), '2025-06-01T00:00');
    await userEvent.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(lastQuery(api.calls).get('actor')).toBe('admin'));
    const query = lastQuery(api.calls);
    expect(query.get('action')).toBe('accounts.*');
    expect(query.get('targetType')).toBe('accounts');
    expect(query.get('targetId')).toBe('acc-9');
    expect(query.get('outcome')).toBe('failure');
    expect(query.get('from')).toBe(String(new Date('2025-06-01T00:00').getTime()));
    expect(query.has('to')).toBe(false);
    expect(query.get('page')).toBe('1');

    await userEvent.selectOptions(screen.getByLabelText('Order'), 'asc');
    await waitFor(() => expect(lastQuery(api.calls).get('order')).toBe('asc'));

    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(click).toHaveBeenCalled());
    const exported = api.calls.find((c) => c.path.startsWith('/admin/api/audit/export.csv'))!;
    const csvQuery = new URL(exported.path, 'http://x').searchParams;
    expect(Object.fromEntries(csvQuery)).toEqual({
      actor: 'admin',
      action: 'accounts.*',
      targetType: 'accounts',
      targetId: 'acc-9',
      outcome: 'failure',
      from: String(new Date('2025-06-01T00:00').getTime()),
      order: 'asc',
    });
  });

  it('shows the empty state and the error state', async () => {
    mockApi(withSession(ADMIN, { 'GET /admin/api/audit': () => page([]) }));
    const { unmount } = show();
    expect(await screen.findByText('No audit entries match these filters.')).toBeInTheDocument();
    unmount();
    mockApi(
      withSession(ADMIN, {
        'GET /admin/api/audit': () => apiError(400, 'INVALID_RANGE', 'from must be before to'),
      }),
    );
    show();
    expect(await screen.findByRole('alert')).toHaveTextContent('from must be before to');
  });

  it("opens an entry's detail with its diff", async () => {
    mockApi(withSession(ADMIN, { 'GET /admin/api/audit': () => page([entry()]) }));
    show();
    await userEvent.click(await screen.findByRole('button', { name: 'keys.update' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText('req-1')).toBeInTheDocument();
    expect(within(dialog).getByTestId('audit-diff')).toBeInTheDocument();
  });
});

describe('AuditDiff', () => {
  it('shows each changed field before and after, secrets as changed only', () => {
    render(<AuditDiff entry={entry()} />);
    const table = screen.getByTestId('audit-diff');
    const row = (field: string) =>
      within(table).getByRole('rowheader', { name: field }).closest('tr')!;
    expect(within(row('name')).getByText('old name')).toBeInTheDocument();
    expect(within(row('name')).getByText('new name')).toBeInTheDocument();
    expect(within(row('limits.concurrency')).getByText('2')).toBeInTheDocument();
    expect(within(row('limits.concurrency')).getByText('4')).toBeInTheDocument();
    expect(row('secretHash')).toHaveTextContent('secret changed (not stored)');
    expect(row('secretHash')).not.toHaveTextContent('[REDACTED]');
    // A field that did not exist before: absent on the left, the new value on the right.
    expect(row('tags')).toHaveTextContent('absent');
    expect(row('tags')).toHaveTextContent('["team-a"]');
  });

  it('highlights the changed fields in the whole record', () => {
    const { container } = render(<AuditDiff entry={entry()} />);
    const changed = [...container.querySelectorAll('[data-changed] dt')].map((dt) =>
      dt.textContent?.replace(' (changed)', ''),
    );
    expect(changed).toEqual(['name', 'limits.concurrency', 'tags']);
    expect(screen.getByText('enabled').closest('[data-changed]')).toBeNull();
  });

  it('says when an entry recorded no changes', () => {
    render(<AuditDiff entry={entry({ diff: null, before: null, after: null })} />);
    expect(screen.getByText(/No field changes recorded/)).toBeInTheDocument();
  });
});
