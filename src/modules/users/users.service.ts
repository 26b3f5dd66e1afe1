import { Injectable } from '@nestjs/common';
import bcrypt from 'bcryptjs';
import { randomBytes, randomUUID } from 'node:crypto';
import { UsersRepository, type UserRecord } from './users.repository';

const BCRYPT_ROUNDS = 12;

export interface CreatedAdmin {
  username: string;
  /** Present only when the password was generated and must be shown once. */
  generatedPassword?: string;
}

@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  /** On an empty database, creates the first admin; returns undefined when users already exist. */
  async bootstrapAdmin(username: string, password?: string): Promise<CreatedAdmin | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const generated = password === undefined ? generatePassword() : undefined;
    const now = Date.now();
    try {
      await this.users.insert({
        id: randomUUID(),
        username,
        password_hash: await bcrypt.hash(password ?? generated ?? '', BCRYPT_ROUNDS),
        role: 'admin',
        disabled: 0,
        created_at: now,
        updated_at: now,
        last_login_at: null,
      });
    } catch (error) {
      // Replicas starting together on an empty database race here; the loser finds a user.
      if ((await this.users.count()) > 0) return undefined;
      throw error;
    }
    return { username, generatedPassword: generated };
  }

  /** Returns the user when the password matches; constant work whether or not the user exists. */
  async verifyPassword(username: string, password: string): Promise<UserRecord | undefined> {
    const user = await this.users.findByUsername(username);
    const hash = user?.password_hash ?? (await dummyHash());
    const ok = await bcrypt.compare(password, hash);
    if (!ok || user === undefined || user.disabled === 1) return undefined;
    await this.users.touchLogin(user.id, Date.now());
    return user;
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    return this.users.findById(id);
  }

  /** Sets a new password (generated when omitted); creates the admin when it does not exist. */
  async resetPassword(username: string, password?: string): Promise<string> {
    const next = password ?? generatePassword();
    const hash = await bcrypt.hash(next, BCRYPT_ROUNDS);
    const user = await this.users.findByUsername(username);
    const now = Date.now();
    if (user === undefined) {
      await this.users.insert({
        id: randomUUID(),
        username,
        password_hash: hash,
        role: 'admin',
        disabled: 0,
        created_at: now,
        updated_at: now,
        last_login_at: null,
      });
    } else {
      await this.users.setPasswordHash(user.id, hash, now);
    }
    return next;
  }
}

// Compared against when the user does not exist, so timing does not reveal valid usernames.
let dummy: Promise<string> | undefined;
function dummyHash(): Promise<string> {
  dummy ??= bcrypt.hash(randomBytes(16).toString('hex'), BCRYPT_ROUNDS);
  return dummy;
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
