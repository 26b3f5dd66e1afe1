import { DomainException } from 'src/common/errors/domain.exception';

export enum SettingsExceptionCode {
  /** No runtime setting has this key. */
  SETTING_NOT_FOUND = 'SETTING_NOT_FOUND',
  /** One or more values were refused; `details.errors` maps each key to why. Nothing was stored. */
  SETTINGS_INVALID = 'SETTINGS_INVALID',
}

const STATUS: Record<SettingsExceptionCode, number> = {
  [SettingsExceptionCode.SETTING_NOT_FOUND]: 404,
  [SettingsExceptionCode.SETTINGS_INVALID]: 400,
};

export class SettingsException extends DomainException {
  readonly status: number;
  override readonly details?: Record<string, unknown>;

  constructor(
    readonly code: SettingsExceptionCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SettingsException';
    this.status = STATUS[code];
    this.details = details;
  }

  static notFound(key: string): SettingsException {
    return new SettingsException(
      SettingsExceptionCode.SETTING_NOT_FOUND,
      `no runtime setting ${JSON.stringify(key)}`,
      { key },
    );
  }

  /** Every refused value at once, so a caller fixes them in one go. */
  static invalid(errors: Record<string, string>): SettingsException {
    const list = Object.entries(errors).map(([key, error]) => `${key} ${error}`);
    return new SettingsException(
      SettingsExceptionCode.SETTINGS_INVALID,
      `settings not changed: ${list.join('; ')}`,
      { errors },
    );
  }
}
