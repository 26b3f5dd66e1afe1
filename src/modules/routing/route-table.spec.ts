import type { StepCounter } from 'src/common/text/wildcard';
import type { ModelRoute } from './model-route.types';
import { RouteTable } from './route-table';

let nextId = 0;

function route(pattern: string, overrides: Partial<ModelRoute> = {}): ModelRoute {
  nextId += 1;
  return {
    id: `00000000-0000-7000-8000-${String(nextId).padStart(12, '0')}`,
    pattern,
    platform: 'claude',
    targetModel: null,
    position: 10,
    enabled: true,
    note: null,
    createdAt: 1,
    updatedAt: 1,
    ...overrides,
  };
}

/** The routes migration 0008 seeds. */
function defaults(): ModelRoute[] {
  return [
    route('claude-*', { platform: 'claude', position: 10 }),
    route('gpt-*', { platform: 'openai', position: 20 }),
    route('chatgpt-*', { platform: 'openai', position: 30 }),
    route('o1*', { platform: 'openai', position: 40 }),
    route('o3*', { platform: 'openai', position: 50 }),
    route('o4*', { platform: 'openai', position: 60 }),
    route('codex-*', { platform: 'openai', position: 70 }),
    route('gemini-*', { platform: 'gemini', position: 80 }),
  ];
}

describe(RouteTable.name, () => {
  describe('route', () => {
    it('should send each default family to its platform and keep the requested name', () => {
      const table = new RouteTable(defaults());
      expect(table.route('claude-sonnet-4-5')).toMatchObject({
        platform: 'claude',
        model: 'claude-sonnet-4-5',
      });
      expect(table.route('gpt-4o')?.platform).toBe('openai');
      expect(table.route('chatgpt-4o-latest')?.platform).toBe('openai');
      expect(table.route('o3-mini')?.platform).toBe('openai');
      expect(table.route('o1')?.platform).toBe('openai');
      expect(table.route('codex-mini-latest')?.platform).toBe('openai');
      expect(table.route('gemini-2.5-pro')?.platform).toBe('gemini');
    });

    it('should answer null when no route matches', () => {
      const table = new RouteTable(defaults());
      expect(table.route('llama-3.1-70b')).toBeNull();
      expect(table.route('')).toBeNull();
      // A prefix pattern needs the whole prefix: `claude` alone is not `claude-*`.
      expect(table.route('claude')).toBeNull();
    });

    it('should prefer an exact name over every pattern, whatever the positions', () => {
      const alias = route('gpt-4o', {
        platform: 'claude',
        targetModel: 'claude-sonnet-4-5',
        position: 999_999,
      });
      const table = new RouteTable([...defaults(), alias]);
      expect(table.route('gpt-4o')).toEqual({
        platform: 'claude',
        model: 'claude-sonnet-4-5',
        routeId: alias.id,
      });
      // Other gpt names still take the pattern.
      expect(table.route('gpt-4o-mini')?.platform).toBe('openai');
    });

    it('should try patterns by position, whatever order they are given in', () => {
      const broad = route('*', { platform: 'droid', position: 1000 });
      const narrow = route('gpt-4*', { platform: 'claude', position: 5 });
      const table = new RouteTable([broad, ...defaults(), narrow]);
      expect(table.route('gpt-4.1')?.routeId).toBe(narrow.id);
      expect(table.route('gpt-5')?.platform).toBe('openai');
      expect(table.route('mistral-large')?.routeId).toBe(broad.id);
    });

    it('should break a tie of positions by id', () => {
      const first = route('x-*', { id: '00000000-0000-7000-8000-00000000000a', position: 7 });
      const second = route('*-y', {
        id: '00000000-0000-7000-8000-00000000000b',
        platform: 'gemini',
        position: 7,
      });
      expect(new RouteTable([second, first]).route('x-y')?.routeId).toBe(first.id);
    });

    it('should never match a disabled route, exact or pattern', () => {
      const table = new RouteTable([
        route('claude-*', { enabled: false }),
        route('claude-opus-4-1', { platform: 'droid', enabled: false }),
        route('*', { platform: 'gemini', position: 100 }),
      ]);
      expect(table.route('claude-opus-4-1')?.platform).toBe('gemini');
      expect(table.route('claude-sonnet-4')?.platform).toBe('gemini');
    });

    it('should ignore case in names and patterns, and keep the requested spelling', () => {
      const table = new RouteTable([
        route('Claude-*', { platform: 'claude' }),
        route('GPT-4O', { platform: 'openai', targetModel: 'gpt-4o-2024-11-20' }),
      ]);
      expect(table.route('CLAUDE-Sonnet-4')).toMatchObject({
        platform: 'claude',
        model: 'CLAUDE-Sonnet-4',
      });
      expect(table.route('gpt-4o')?.model).toBe('gpt-4o-2024-11-20');
      expect(table.route('Gpt-4O')?.model).toBe('gpt-4o-2024-11-20');
    });

    it('should answer a repeated name with the same frozen result', () => {
      const table = new RouteTable(defaults());
      const first = table.route('claude-haiku-4-5');
      expect(table.route('claude-haiku-4-5')).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
    });

    it('should route a hostile megabyte-long name correctly in work linear in its length', () => {
      const table = new RouteTable([
        ...defaults(),
        // Star-heavy patterns are where a backtracking matcher goes quadratic or worse.
        route('*a*a*a*a*a*b*', { platform: 'droid', position: 5 }),
        route('*-*-*-*-*-*-x-*', { platform: 'droid', position: 6 }),
      ]);
      const n = 1_000_000;
      const hostile = 'a'.repeat(n);
      const counter: StepCounter = { steps: 0 };
      expect(table.match(hostile, counter)).toBeNull();
      // One lower-casing pass plus at most two steps per character per pattern (KMP).
      expect(counter.steps).toBeLessThanOrEqual(n * (1 + 2 * 10));

      const dashes = `claude-${'-'.repeat(n)}`;
      const dashCounter: StepCounter = { steps: 0 };
      expect(table.match(dashes, dashCounter)?.platform).toBe('claude');
      expect(dashCounter.steps).toBeLessThanOrEqual(dashes.length * (1 + 2 * 10));

      expect(table.route(hostile)).toBeNull();
      expect(table.route(`gemini-${hostile}`)?.platform).toBe('gemini');
    });
  });

  describe('aliases', () => {
    it('should list enabled exact names by name, with the model they are sent as', () => {
      const table = new RouteTable([
        ...defaults(),
        route('sonnet', { platform: 'claude', targetModel: 'claude-sonnet-4-5' }),
        route('gpt-4o', { platform: 'openai' }),
        route('old-name', { platform: 'openai', enabled: false }),
      ]);
      expect(table.aliases).toEqual([
        { name: 'gpt-4o', platform: 'openai', model: 'gpt-4o' },
        { name: 'sonnet', platform: 'claude', model: 'claude-sonnet-4-5' },
      ]);
    });
  });

  describe('routes', () => {
    it('should list every route in evaluation order: exact names, then patterns by position', () => {
      const table = new RouteTable([
        route('b-*', { position: 20 }),
        route('exact-name', { position: 50 }),
        route('a-*', { position: 10 }),
        route('off-*', { position: 15, enabled: false }),
      ]);
      expect(table.routes.map((r) => r.pattern)).toEqual(['exact-name', 'a-*', 'off-*', 'b-*']);
    });
  });
});
