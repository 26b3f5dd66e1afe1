import type { ReactNode } from 'react';
import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { cn } from '@/lib/cn';
import { Button } from './button';
import { EmptyState, ErrorState, Spinner } from './misc';
import { Select } from './form';

export interface Column<Row> {
  key: string;
  header: ReactNode;
  cell(row: Row): ReactNode;
  className?: string;
  /** The column the rows are sorted by, and how (`aria-sort` on its header). */
  sort?: 'ascending' | 'descending';
}

/**
 * A data table with its loading, error and empty states; optional row selection (checkboxes,
 * for batch actions) and row click. Scrolls sideways on narrow screens.
 */
export function DataTable<Row>({
  columns,
  rows,
  rowKey,
  loading,
  error,
  onRetry,
  selected,
  onSelectedChange,
  onRowClick,
  caption,
  empty,
}: {
  columns: Column<Row>[];
  rows: Row[] | undefined;
  rowKey(row: Row): string;
  loading?: boolean;
  error?: unknown;
  onRetry?(): void;
  selected?: Set<string>;
  onSelectedChange?(selected: Set<string>): void;
  onRowClick?(row: Row): void;
  caption: string;
  empty?: ReactNode;
}) {
  const { t } = useTranslation();
  if (error) return <ErrorState error={error} onRetry={onRetry} />;
  if (loading || !rows) return <Spinner />;
  if (rows.length === 0) return <EmptyState>{empty}</EmptyState>;
  const selectable = selected !== undefined && onSelectedChange !== undefined;
  const allSelected = selectable && rows.every((row) => selected.has(rowKey(row)));
  const toggle = (key: string) => {
    if (!selectable) return;
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    onSelectedChange(next);
  };
  return (
    <div className="relative overflow-x-auto rounded-lg border border-border bg-surface">
      <table className="w-full border-collapse text-left">
        <caption className="sr-only">{caption}</caption>
        <thead className="bg-surface-2 text-[12.5px] text-muted">
          <tr>
            {selectable && (
              <th className="w-8 px-3 py-2">
                <input
                  type="checkbox"
                  className="size-4 accent-primary"
                  aria-label={t('table.selectAll')}
                  checked={allSelected}
                  onChange={() =>
                    onSelectedChange(allSelected ? new Set() : new Set(rows.map(rowKey)))
                  }
                />
              </th>
            )}
            {columns.map((column) => (
              <th
                key={column.key}
                scope="col"
                aria-sort={column.sort}
                className={cn('px-3 py-2 font-medium whitespace-nowrap', column.className)}
              >
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const key = rowKey(row);
            return (
              <tr
                key={key}
                className={cn(
                  'border-t border-border',
                  onRowClick && 'cursor-pointer hover:bg-surface-2',
                )}
                onClick={onRowClick ? () => onRowClick(row) : undefined}
              >
                {selectable && (
                  <td className="px-3 py-2" onClick={(event) => event.stopPropagation()}>
                    <input
                      type="checkbox"
                      className="size-4 accent-primary"
                      aria-label={t('table.selectRow')}
                      checked={selected.has(key)}
                      onChange={() => toggle(key)}
                    />
                  </td>
                )}
                {columns.map((column) => (
                  <td key={column.key} className={cn('px-3 py-2 align-top', column.className)}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Page controls for the admin API's `{ items, total, page, pageSize }` lists. */
export function Pagination({
  page,
  pageSize,
  total,
  onPageChange,
  onPageSizeChange,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPageChange(page: number): void;
  onPageSizeChange?(pageSize: number): void;
}) {
  const { t } = useTranslation();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <nav
      aria-label={t('table.pageSize')}
      className="mt-3 flex flex-wrap items-center justify-end gap-3 text-muted"
    >
      <span>{t('table.total', { count: total })}</span>
      {onPageSizeChange && (
        <label className="flex items-center gap-2 whitespace-nowrap">
          {t('table.pageSize')}
          <Select
            className="w-20!"
            value={pageSize}
            onChange={(event) => onPageSizeChange(Number(event.target.value))}
          >
            {[20, 50, 100, 200].map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
          </Select>
        </label>
      )}
      <span>{t('table.page', { page, pages })}</span>
      <Button
        size="sm"
        aria-label={t('table.previous')}
        disabled={page <= 1}
        onClick={() => onPageChange(page - 1)}
      >
        <ChevronLeft className="size-4" aria-hidden />
      </Button>
      <Button
        size="sm"
        aria-label={t('table.next')}
        disabled={page >= pages}
        onClick={() => onPageChange(page + 1)}
      >
        <ChevronRight className="size-4" aria-hidden />
      </Button>
    </nav>
  );
}
