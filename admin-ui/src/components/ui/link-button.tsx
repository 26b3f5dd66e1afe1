import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { cn } from '@/lib/cn';

const variants = {
  primary: 'bg-primary text-primary-fg hover:opacity-90 border border-transparent',
  secondary: 'bg-surface text-fg border border-border hover:bg-surface-2',
  ghost: 'bg-transparent text-fg border border-transparent hover:bg-surface-2',
};
const sizes = { sm: 'h-8 px-2.5 text-[13px]', md: 'h-9 px-3.5' };

/** A router link that looks like a Button (navigation stays a link for the keyboard and tabs). */
export function LinkButton({
  to,
  variant = 'secondary',
  size = 'md',
  className,
  children,
  ...rest
}: {
  to: string;
  variant?: keyof typeof variants;
  size?: keyof typeof sizes;
  className?: string;
  children: ReactNode;
  'aria-label'?: string;
  title?: string;
  'data-testid'?: string;
}) {
  return (
    <Link
      to={to}
      className={cn(
        'inline-flex items-center justify-center gap-1.5 rounded-md font-medium whitespace-nowrap no-underline transition-colors',
        variants[variant],
        sizes[size],
        className,
      )}
      {...rest}
    >
      {children}
    </Link>
  );
}
