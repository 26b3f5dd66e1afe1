import { barkChannel } from './bark.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const KEY = 'ynJ5Ft4atkMkWeo2PAvFhF';

describe('barkChannel', () => {
  it('should keep the device key secret and send to the server URL', () => {
    expect(barkChannel.secretFields).toEqual(['deviceKey']);
    expect(barkChannel.urlField).toBe('serverUrl');
  });

  describe('validate', () => {
    it('should default the server to api.day.app and the group to Switchyard', () => {
      expect(barkChannel.validate({ deviceKey: KEY })).toEqual({
        ok: true,
        config: { serverUrl: 'https://api.day.app', deviceKey: KEY, group: 'Switchyard' },
      });
    });

    it('should name each bad field without echoing the key', () => {
      const check = barkChannel.validate({ serverUrl: 'day.app', deviceKey: 'bad key/..' });
      expect(check).toEqual({
        ok: false,
        errors: [
          'serverUrl must be an http(s) URL',
          'deviceKey must be the key from the Bark app (letters, digits, - and _)',
        ],
      });
      expect(JSON.stringify(check)).not.toContain('bad key');
    });
  });

  describe('build', () => {
    it('should post JSON to <server>/push with the level taken from the severity', () => {
      const delivery = barkChannel.build(
        notificationMessage(),
        { serverUrl: 'https://bark.example.test/', deviceKey: KEY, group: 'ops' },
        0,
      );

      expect(delivery.url).toBe('https://bark.example.test/push');
      expect(delivery.method).toBe('POST');
      expect(delivery.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
      expect(jsonBody(delivery.body)).toEqual({
        device_key: KEY,
        title: '[Critical] Account "team<1>" failed authentication',
        body: [
          'Upstream answered 401 & the token was refused. *Check* _it_ <@everyone>',
          'account: team<1> (acc-1)',
          'status: 401',
          'reason: invalid_grant & revoked',
          'platform: claude',
          'until: -',
          'account.auth_failed · 2026-01-02T03:04:05.000Z',
        ].join('\n'),
        group: 'ops',
        level: 'critical',
      });
    });

    it('should break through Focus for warnings and stay default for info', () => {
      const level = (severity: 'info' | 'warning') =>
        jsonBody(
          barkChannel.build(
            notificationMessage({ severity }),
            { serverUrl: 'https://api.day.app', deviceKey: KEY, group: 'g' },
            0,
          ).body,
        ).level;
      expect(level('warning')).toBe('timeSensitive');
      expect(level('info')).toBe('active');
    });
  });

  describe('verdict', () => {
    it('should accept code 200', () => {
      expect(
        barkChannel.verdict(200, '{"code":200,"message":"success","timestamp":1700000000}'),
      ).toEqual({ ok: true });
    });

    it('should not retry an unknown device key', () => {
      expect(
        barkChannel.verdict(
          400,
          '{"code":400,"message":"failed to get device token: failed to get [x] device token from database","timestamp":1}',
        ),
      ).toMatchObject({ ok: false, retryable: false });
    });

    it('should retry a failed APNs push', () => {
      expect(
        barkChannel.verdict(500, '{"code":500,"message":"push failed: apns down","timestamp":1}'),
      ).toMatchObject({ ok: false, retryable: true });
      expect(barkChannel.verdict(200, '{"code":500,"message":"push failed"}')).toEqual({
        ok: false,
        error: 'Bark code 500: push failed',
        retryable: true,
      });
    });
  });
});
