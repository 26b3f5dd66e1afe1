import type { Role } from 'src/common/auth/route-access.decorator';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginRequestDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  username!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class LoginResponseDto {
  token!: string;
  expiresAt!: string;
  user!: SessionUserDto;
}

export class SessionUserDto {
  id!: string;
  username!: string;
  role!: Role;
}
