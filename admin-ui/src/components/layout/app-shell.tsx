import { Suspense, useState } from 'react';
import { Dialog as D } from 'radix-ui';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { LogOut, Menu, Moon, Sun, SunMoon, X } from 'lucide-react';
import { can, useUser, useSession } from '@/auth/session';
import { LANGUAGES, setLanguage, type Language } from '@/i18n';
import { PAGES } from '@/routes';
import { useTheme, type ThemeChoice } from '@/theme/theme';
import { Button } from '@/components/ui/button';
import { Select } from '@/components/ui/form';
import { Spinner } from '@/components/ui/misc';
import { cn } from '@/lib/cn';

const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', zh: '中文' };

/** Language and theme switches (also on the login page). */
export function Preferences({ className }: { className?: string }) {
  const { t, i18n } = useTranslation();
  const { choice, setChoice } = useTheme();
  const icons: Record<ThemeChoice, typeof Sun> = { light: Sun, dark: Moon, system: SunMoon };
  const order: ThemeChoice[] = ['system', 'light', 'dark'];
  const next = order[(order.indexOf(choice) + 1) % order.length];
  const Icon = icons[choice];
  return (
    <div className={cn('flex items-center gap-2', className)}>
      <label className="sr-only" htmlFor="pref-language">
        {t('prefs.language')}
      </label>
      <Select
        id="pref-language"
        data-testid="language"
        className="h-8 w-auto py-0"
        value={i18n.language}
        onChange={(event) => setLanguage(event.target.value as Language)}
      >
        {LANGUAGES.map((language) => (
          <option key={language} value={language}>
            {LANGUAGE_NAMES[language]}
          </option>
        ))}
      </Select>
      <Button
        size="sm"
        data-testid="theme"
        aria-label={`${t('prefs.theme')}: ${t(`prefs.${choice}`)}`}
        title={`${t('prefs.theme')}: ${t(`prefs.${choice}`)}`}
        onClick={() => setChoice(next)}
      >
        <Icon className="size-4" aria-hidden />
        <span className="hidden sm:inline">{t(`prefs.${choice}`)}</span>
      </Button>
    </div>
  );
}

function Nav({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useTranslation();
  const user = useUser();
  return (
    <nav aria-label={t('nav.main')} className="flex flex-col gap-0.5 p-2">
      {PAGES.filter((page) => can(user, page.roles)).map((page) => (
        <NavLink
          key={page.path}
          to={`/admin/${page.path}`}
          onClick={onNavigate}
          className={({ isActive }) =>
            cn(
              'flex items-center gap-2.5 rounded-md px-3 py-2 text-muted hover:bg-surface-2 hover:text-fg',
              isActive && 'bg-surface-2 font-medium text-fg',
            )
          }
        >
          <page.icon className="size-4" aria-hidden />
          {t(`nav.${page.label}`)}
        </NavLink>
      ))}
    </nav>
  );
}

/** The signed-in frame: side navigation (a drawer on phones), top bar, the page. */
export function AppShell() {
  const { t } = useTranslation();
  const user = useUser();
  const { logout } = useSession();
  const [drawer, setDrawer] = useState(false);
  const location = useLocation();
  // Navigating (links, history) closes the drawer: adjusted while rendering, not in an effect.
  const [drawerPath, setDrawerPath] = useState(location.pathname);
  if (drawerPath !== location.pathname) {
    setDrawerPath(location.pathname);
    setDrawer(false);
  }

  return (
    <div className="flex min-h-full">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:bg-surface focus:p-2"
      >
        {t('nav.main')}
      </a>
      {/* The column (background and border) spans the whole page; the navigation in it sticks. */}
      <div className="hidden w-56 shrink-0 border-r border-border bg-surface md:block">
        <aside className="sticky top-0 flex max-h-screen flex-col overflow-y-auto">
          <div className="px-5 py-4 text-[17px] font-semibold">{t('appName')}</div>
          <Nav />
        </aside>
      </div>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-30 flex h-14 items-center gap-2 border-b border-border bg-surface/95 px-3 backdrop-blur sm:px-5">
          {/* The phone drawer, a Radix dialog: focus trapped, Escape closes, focus back here. */}
          <D.Root open={drawer} onOpenChange={setDrawer}>
            <D.Trigger asChild>
              <Button variant="ghost" size="sm" className="md:hidden" aria-label={t('nav.menu')}>
                <Menu className="size-5" aria-hidden />
              </Button>
            </D.Trigger>
            <D.Portal>
              <D.Overlay className="fixed inset-0 z-40 bg-black/40 md:hidden" />
              <D.Content
                aria-describedby={undefined}
                className="fixed inset-y-0 left-0 z-50 w-64 overflow-y-auto bg-surface shadow-xl md:hidden"
              >
                <div className="flex items-center justify-between px-4 py-3">
                  <span className="text-[17px] font-semibold" aria-hidden>
                    {t('appName')}
                  </span>
                  <D.Title className="sr-only">{t('nav.menu')}</D.Title>
                  <D.Close asChild>
                    <Button variant="ghost" size="sm" aria-label={t('nav.closeMenu')}>
                      <X className="size-4" aria-hidden />
                    </Button>
                  </D.Close>
                </div>
                <Nav onNavigate={() => setDrawer(false)} />
              </D.Content>
            </D.Portal>
          </D.Root>
          <span className="font-semibold md:hidden">{t('appName')}</span>
          <div className="ml-auto flex items-center gap-2">
            <Preferences />
            <span className="hidden text-muted lg:inline" data-testid="signed-in-as">
              {t('prefs.signedInAs', { name: user.username, role: t(`roles.${user.role}`) })}
            </span>
            <Button
              size="sm"
              variant="ghost"
              onClick={() => void logout()}
              aria-label={t('actions.logout')}
            >
              <LogOut className="size-4" aria-hidden />
              <span className="hidden sm:inline">{t('actions.logout')}</span>
            </Button>
          </div>
        </header>
        <main id="main" className="mx-auto w-full max-w-[1400px] flex-1 p-3 sm:p-5">
          <Suspense fallback={<Spinner />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}
