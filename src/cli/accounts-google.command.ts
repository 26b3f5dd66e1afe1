import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { parseGeminiCredsFile } from 'src/modules/oauth/google/gemini-creds-file';
import {
  GoogleOAuthLoginService,
  type GoogleLoginTarget,
} from 'src/modules/oauth/google/google-oauth-login.service';
import { parseCallbackUrl } from 'src/modules/oauth/google/google-oauth.protocol';
import {
  importAction,
  loginAction,
  printAccount,
  stdinPrompt,
  targetOf,
  withTargetOptions,
  type LinePrompt,
  type OAuthCommandFamily,
  type OAuthTargetOptions,
} from './accounts-oauth.cli';
import type { ContextRunner } from './accounts.command';

interface GoogleTargetOptions extends OAuthTargetOptions {
  project?: string;
  file?: string;
}

function googleTargetOf(options: GoogleTargetOptions): GoogleLoginTarget {
  const target: GoogleLoginTarget = targetOf(options);
  if (options.project !== undefined) target.projectId = options.project;
  return target;
}

function printGoogleAccount(account: AccountResponseDto, options: GoogleTargetOptions): void {
  const credentials = account.credentials as { projectId?: string } | null;
  printAccount(account, options, [
    `  project:     ${credentials?.projectId ?? '?'}`,
    ...(account.subscription?.plan !== undefined
      ? [`  tier:        ${account.subscription.plan}`]
      : []),
  ]);
}

const GOOGLE: OAuthCommandFamily<GoogleTargetOptions, GoogleLoginTarget, GoogleOAuthLoginService> =
  { service: GoogleOAuthLoginService, target: googleTargetOf, print: printGoogleAccount };

function withGoogleTargetOptions(command: Command): Command {
  return withTargetOptions(
    command,
    {
      name: "the account's name (default: gemini-<project>)",
      account: 'replace the credentials of this gemini-oauth account',
    },
    (c) =>
      c.option(
        '--project <id>',
        'the Google Cloud project (else found or onboarded as Gemini CLI does)',
      ),
  );
}

/**
 * `switchyard accounts login-google|import-gemini`: gemini-oauth accounts (a Google account
 * through Code Assist) from a Google sign-in done here (the URL is printed, the code Google shows
 * pasted back), or from Gemini CLI's own `~/.gemini/oauth_creds.json`.
 */
export function registerGoogleAccountCommands(
  accounts: Command,
  run: ContextRunner,
  prompt: LinePrompt = stdinPrompt,
): void {
  withGoogleTargetOptions(
    accounts
      .command('import-gemini')
      .description(
        "add a gemini-oauth account from Gemini CLI's oauth_creds.json (its Google login)",
      )
      .option('--file <path>', 'the credentials file (default: ~/.gemini/oauth_creds.json)'),
  ).action(
    importAction(run, GOOGLE, {
      defaultPath: () => join(homedir(), '.gemini', 'oauth_creds.json'),
      missingHint: 'sign in to Gemini CLI with Google first',
      parse: parseGeminiCredsFile,
      import: (service, tokens, target) => service.importTokens(tokens, target),
    }),
  );

  withGoogleTargetOptions(
    accounts
      .command('login-google')
      .description(
        'sign in with Google and add a gemini-oauth account (prints a URL, reads the code)',
      ),
  ).action(
    loginAction(run, prompt, GOOGLE, {
      provider: 'Google',
      instructions: () => [
        '2. Google then shows an authorization code: copy it (or the whole URL).',
      ],
      question: 'Authorization code: ',
      isCallbackUrl: (answer) => parseCallbackUrl(answer) !== null,
    }),
  );
}
