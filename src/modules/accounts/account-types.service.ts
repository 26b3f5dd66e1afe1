import { Injectable } from '@nestjs/common';
import { AccountCodec } from './account-codec';
import type {
  AccountTypeListResponseDto,
  AccountTypeResponseDto,
} from './dto/account-type.response.dto';
import { accountTypeDescriptors } from './types/account-types.registry';

/** The account types this version serves, from their descriptors, for the admin API. */
@Injectable()
export class AccountTypesService {
  constructor(private readonly codec: AccountCodec) {}

  list(): AccountTypeListResponseDto {
    return {
      items: accountTypeDescriptors().map((descriptor): AccountTypeResponseDto => ({
        type: descriptor.type,
        platform: descriptor.platform,
        label: descriptor.label,
        provider: descriptor.provider,
        credentialFields: descriptor.credentialFields.map((field) => ({
          name: field.name,
          required: field.required,
          secret: field.secret,
          kind: field.kind,
          ...(field.values === undefined ? {} : { values: [...field.values] }),
          description: field.description,
        })),
        supportsSubscription: descriptor.supportsSubscription,
        hasRefresher: descriptor.hasRefresher,
        defaultBaseUrl: this.codec.defaultBaseUrl(descriptor.type),
        defaultBaseUrlSetting: descriptor.defaultBaseUrlSetting,
        testModel: descriptor.testRequest.defaultModel,
      })),
    };
  }
}
