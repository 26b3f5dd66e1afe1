import { Plus, X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { Button } from '@/components/ui/button';
import { Input } from '@/components/ui/form';

export interface Pair {
  from: string;
  to: string;
}

export function pairsFromObject(value: Record<string, unknown> | null | undefined): Pair[] {
  return Object.entries(value ?? {}).map(([from, to]) => ({ from, to: String(to) }));
}

/** The filled rows as an object; rows with an empty side are left out. */
export function objectFromPairs(pairs: Pair[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { from, to } of pairs) {
    if (from.trim() !== '' && to.trim() !== '') out[from.trim()] = to.trim();
  }
  return out;
}

/** Rows of name → name (model mappings, Azure deployments, Bedrock model ids). */
export function PairsEditor({
  value,
  onChange,
  fromLabel,
  toLabel,
  label,
  invalid,
  describedBy,
}: {
  value: Pair[];
  onChange: (value: Pair[]) => void;
  fromLabel: string;
  toLabel: string;
  /** What the rows are, for the screen reader labels of each input. */
  label: string;
  invalid?: boolean;
  describedBy?: string;
}) {
  const { t } = useTranslation('accounts');
  const rows = value.length === 0 ? [{ from: '', to: '' }] : value;
  const update = (index: number, change: Partial<Pair>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));
  return (
    <div className="flex flex-col gap-1.5" role="group" aria-label={label}>
      <div className="grid grid-cols-[1fr_1fr_auto] gap-1.5 text-[12px] text-muted">
        <span>{fromLabel}</span>
        <span>{toLabel}</span>
        <span className="w-8" />
      </div>
      {rows.map((row, index) => (
        <div key={index} className="grid grid-cols-[1fr_1fr_auto] gap-1.5">
          <Input
            aria-label={`${label} ${index + 1}: ${fromLabel}`}
            aria-invalid={invalid || undefined}
            aria-describedby={describedBy}
            className="font-mono text-[13px]"
            value={row.from}
            onChange={(event) => update(index, { from: event.target.value })}
          />
          <Input
            aria-label={`${label} ${index + 1}: ${toLabel}`}
            aria-invalid={invalid || undefined}
            className="font-mono text-[13px]"
            value={row.to}
            onChange={(event) => update(index, { to: event.target.value })}
          />
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('form.removeRow', { index: index + 1 })}
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
          >
            <X className="size-4" aria-hidden />
          </Button>
        </div>
      ))}
      <div>
        <Button size="sm" onClick={() => onChange([...rows, { from: '', to: '' }])}>
          <Plus className="size-4" aria-hidden />
          {t('form.addRow')}
        </Button>
      </div>
    </div>
  );
}
