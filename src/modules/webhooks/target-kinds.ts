import type { UpstreamHostPolicy } from 'src/infra/http/upstream-host-policy';
import type { ChannelKind, ConfigCheck, HttpChannel } from './channels/channel.types';
import {
  EMAIL_SECRET_FIELDS,
  emailRefusal,
  validateEmailConfig,
  type EmailConfig,
} from './channels/email.sender';
import { httpChannelOf, targetKinds } from './channels/registry';

/** What the admin API and the sender need to know of a target kind, HTTP channel or email. */
export interface TargetKindSpec {
  kind: ChannelKind;
  secretFields: readonly string[];
  validate(config: unknown): ConfigCheck<unknown>;
  /** Why the validated config's destination is refused by the host policy, or null. */
  refusal(config: unknown, policy: UpstreamHostPolicy): string | null;
  /** The HTTP channel; undefined for email. */
  channel?: HttpChannel<unknown>;
}

const EMAIL_SPEC: TargetKindSpec = {
  kind: 'email',
  secretFields: EMAIL_SECRET_FIELDS,
  validate: validateEmailConfig,
  refusal: (config, policy) => emailRefusal(config as EmailConfig, policy),
};

export function targetKindSpec(kind: string): TargetKindSpec | undefined {
  if (kind === 'email') return EMAIL_SPEC;
  const channel = httpChannelOf(kind);
  if (channel === undefined) return undefined;
  return {
    kind: channel.kind,
    secretFields: channel.secretFields,
    validate: (config) => channel.validate(config),
    refusal: (config, policy) => {
      const url = (config as Record<string, unknown>)[channel.urlField];
      return typeof url === 'string'
        ? policy.refusal(url, 'url')
        : `${channel.urlField} is missing`;
    },
    channel,
  };
}

export { targetKinds };
