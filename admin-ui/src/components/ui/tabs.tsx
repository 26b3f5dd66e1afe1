import { Tabs as T } from 'radix-ui';
import type { ReactNode } from 'react';

/** Tabs (Radix: arrow keys move between tabs). */
export function Tabs({
  value,
  onValueChange,
  tabs,
  label,
}: {
  value: string;
  onValueChange: (value: string) => void;
  label: string;
  tabs: Array<{ value: string; label: ReactNode; content: ReactNode }>;
}) {
  return (
    <T.Root value={value} onValueChange={onValueChange}>
      <T.List aria-label={label} className="mb-3 flex flex-wrap gap-1 border-b border-border">
        {tabs.map((tab) => (
          <T.Trigger
            key={tab.value}
            value={tab.value}
            className="-mb-px border-b-2 border-transparent px-3 py-1.5 text-muted data-[state=active]:border-primary data-[state=active]:text-fg"
          >
            {tab.label}
          </T.Trigger>
        ))}
      </T.List>
      {tabs.map((tab) => (
        <T.Content key={tab.value} value={tab.value}>
          {tab.content}
        </T.Content>
      ))}
    </T.Root>
  );
}
