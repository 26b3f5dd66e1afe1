import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import * as common from './common';
import * as accounts from '@/pages/accounts/messages';
import * as audit from '@/pages/audit/messages';
import * as dashboard from '@/pages/dashboard/messages';
import * as keys from '@/pages/keys/messages';
import * as me from '@/pages/me/messages';
import * as notifications from '@/pages/notifications/messages';
import * as routing from '@/pages/routing/messages';
import * as settings from '@/pages/settings/messages';
import * as setup from '@/pages/setup/messages';
import * as usage from '@/pages/usage/messages';
import * as users from '@/pages/users/messages';

/**
 * English and Chinese, one namespace per page (pages/<page>/messages.ts) plus `common`. Each
 * zh object is typed as its en object, so a missing translation fails the typecheck; t() keys are
 * typed too (see the module augmentation below).
 */
export const resources = {
  en: {
    common: common.en,
    accounts: accounts.en,
    audit: audit.en,
    dashboard: dashboard.en,
    keys: keys.en,
    me: me.en,
    notifications: notifications.en,
    routing: routing.en,
    settings: settings.en,
    setup: setup.en,
    usage: usage.en,
    users: users.en,
  },
  zh: {
    common: common.zh,
    accounts: accounts.zh,
    audit: audit.zh,
    dashboard: dashboard.zh,
    keys: keys.zh,
    me: me.zh,
    notifications: notifications.zh,
    routing: routing.zh,
    settings: settings.zh,
    setup: setup.zh,
    usage: usage.zh,
    users: users.zh,
  },
} as const;

export type Language = keyof typeof resources;
export const LANGUAGES: Language[] = ['en', 'zh'];
const KEY = 'switchyard.lang';

function initialLanguage(): Language {
  const stored = localStorage.getItem(KEY);
  if (stored === 'en' || stored === 'zh') return stored;
  return typeof navigator !== 'undefined' && navigator.language.toLowerCase().startsWith('zh')
    ? 'zh'
    : 'en';
}

void i18n.use(initReactI18next).init({
  resources,
  lng: initialLanguage(),
  fallbackLng: 'en',
  defaultNS: 'common',
  ns: Object.keys(resources.en),
  interpolation: { escapeValue: false },
  returnNull: false,
  showSupportNotice: false,
});
document.documentElement.lang = i18n.language;

/** Switches the language and remembers it. */
export function setLanguage(language: Language): void {
  localStorage.setItem(KEY, language);
  document.documentElement.lang = language;
  void i18n.changeLanguage(language);
}

/** The locale for Intl formatting of numbers and dates in the current language. */
export function locale(): string {
  return i18n.language === 'zh' ? 'zh-CN' : 'en-US';
}

export default i18n;

declare module 'i18next' {
  interface CustomTypeOptions {
    defaultNS: 'common';
    resources: (typeof resources)['en'];
  }
}
