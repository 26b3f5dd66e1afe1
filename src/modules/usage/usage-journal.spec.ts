import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOURNAL_ROTATE_MS, JOURNAL_STALE_MS, UsageJournal } from './usage-journal';
import type { UsageEvent } from './usage.types';

function event(id: string): UsageEvent {
  return {
    requestId: id,
    at: Date.UTC(2026, 0, 1),
    apiKeyId: 'key',
    accountId: 'acct',
    platform: 'claude',
    model: 'claude-sonnet-4-6',
    status: 200,
    outcome: 'ok',
    stream: false,
    usage: { inputTokens: 1, outputTokens: 2 },
    costMicros: 3,
    priceKnown: true,
    latencyMs: 4,
    ttfbMs: 5,
    attempts: 1,
    errorCode: null,
  } as UsageEvent;
}

function setup(owner = { host: 'h', pid: process.pid, start: 1000 }) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-journal-'));
  let clock = Date.now();
  const journal = new UsageJournal({ dir, owner, fsync: false, now: () => clock });
  return { dir, journal, elapse: (ms: number) => (clock += ms) };
}

describe(UsageJournal.name, () => {
  describe('append', () => {
    it('should have every event of a turn in a 0600 file once journaled() resolves', async () => {
      const { dir, journal } = setup();
      for (let i = 0; i < 50; i++) journal.append(event(`r${i}`));
      await journal.journaled();
      const [name] = readdirSync(dir);
      expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
      const lines = readFileSync(join(dir, name), 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as UsageEvent).requestId)).toEqual(
        Array.from({ length: 50 }, (_, i) => `r${i}`),
      );
      await journal.close();
    });

    it('should write and fdatasync on the thread pool with fsync on', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-journal-'));
      const journal = new UsageJournal({
        dir,
        owner: { host: 'h', pid: process.pid, start: 1 },
        fsync: true,
      });
      journal.append(event('synced'));
      await journal.journaled();
      expect(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')).toContain('"synced"');
      await journal.close();
    });
  });

  describe('journaled', () => {
    it('should resolve for the events appended so far while later ones keep coming', async () => {
      const { dir, journal } = setup();
      let n = 0;
      let running = true;
      const load = (): void => {
        journal.append(event(`load-${n++}`));
        if (running) setImmediate(load);
      };
      load();
      journal.append(event('mine'));
      await journal.journaled();
      running = false;
      const text = readdirSync(dir)
        .map((name) => readFileSync(join(dir, name), 'utf8'))
        .join('');
      expect(text).toContain('"mine"');
      await journal.close();
    });
  });

  describe('settle', () => {
    it('should delete a rotated segment once its events are stored, and keep it before', async () => {
      const { dir, journal, elapse } = setup();
      const first = [event('a'), event('b')];
      first.forEach((e) => journal.append(e));
      await journal.journaled();
      elapse(JOURNAL_ROTATE_MS);
      const later = event('c');
      journal.append(later);
      await journal.journaled();
      expect(readdirSync(dir)).toHaveLength(2);
      journal.settle([first[0]]);
      expect(readdirSync(dir)).toHaveLength(2);
      journal.settle([first[1]]);
      expect(readdirSync(dir)).toHaveLength(1);
      journal.settle([later]);
      await journal.close();
      expect(readdirSync(dir)).toEqual([]);
    });

    it('should leave unsettled events on disk at close, for the next start', async () => {
      const { dir, journal } = setup();
      journal.append(event('kept'));
      await journal.close();
      expect(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8')).toContain('"kept"');
    });
  });

  describe('claimOrphans', () => {
    it("should claim a dead process's file once, and never a live process's", async () => {
      const { dir, journal } = setup({ host: 'h', pid: process.pid, start: 2000 });
      // The same host and pid with another start time: a previous life of this container.
      writeFileSync(
        join(dir, `usage.h.${process.pid}.${(1000).toString(36)}.s0.ndjson`),
        JSON.stringify(event('x')) + '\n{"torn',
      );
      // pid 1 is alive: its file is not an orphan.
      writeFileSync(join(dir, 'usage.h.1.1.s0.ndjson'), JSON.stringify(event('live')) + '\n');
      // Another host's file, touched a moment ago: alive too.
      writeFileSync(join(dir, 'usage.other.1.1.s0.ndjson'), JSON.stringify(event('remote')) + '\n');
      const claimed = journal.claimOrphans();
      expect(claimed).toHaveLength(1);
      expect(claimed[0].events.map((e) => e.requestId)).toEqual(['x']);
      expect(claimed[0].unreadable).toBe(1);
      // Another live process claiming at the same time finds nothing left to take.
      const other = new UsageJournal({
        dir,
        owner: { host: 'h', pid: process.ppid, start: 3000 },
        fsync: false,
      });
      expect(other.claimOrphans().flatMap((f) => f.events.map((e) => e.requestId))).not.toContain(
        'x',
      );
      journal.settle(claimed[0].events);
      expect(readdirSync(dir).sort()).toEqual(
        ['usage.h.1.1.s0.ndjson', 'usage.other.1.1.s0.ndjson'].sort(),
      );
      await journal.close();
    });

    it("should claim another host's file once it went stale", () => {
      const { dir, journal, elapse } = setup();
      writeFileSync(join(dir, 'usage.other.1.1.s0.ndjson'), JSON.stringify(event('remote')) + '\n');
      expect(journal.claimOrphans()).toEqual([]);
      elapse(JOURNAL_STALE_MS + 1000);
      expect(journal.claimOrphans().flatMap((f) => f.events.map((e) => e.requestId))).toEqual([
        'remote',
      ]);
    });
  });
});
