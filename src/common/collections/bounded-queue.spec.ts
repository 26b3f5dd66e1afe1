import { BoundedQueue } from './bounded-queue';

function filled(max: number, count: number): BoundedQueue<number> {
  const queue = new BoundedQueue<number>(max);
  for (let i = 0; i < count; i++) queue.push(i);
  return queue;
}

describe(BoundedQueue.name, () => {
  describe('push', () => {
    it('should keep items in order when under the bound', () => {
      const queue = filled(5000, 3000);
      expect(queue.size).toBe(3000);
      expect(queue.take(3000)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    });

    it('should evict the oldest item when the queue is full', () => {
      const queue = filled(3, 3);
      expect(queue.push(3)).toBe(1);
      expect(queue.push(4)).toBe(1);
      expect(queue.size).toBe(3);
      expect(queue.take(10)).toEqual([2, 3, 4]);
    });
  });

  describe('take', () => {
    it('should return at most n items, oldest first, when more are queued', () => {
      const queue = filled(10, 7);
      expect(queue.take(3)).toEqual([0, 1, 2]);
      expect(queue.take(3)).toEqual([3, 4, 5]);
      expect(queue.take(3)).toEqual([6]);
      expect(queue.size).toBe(0);
    });

    it('should keep FIFO order when the ring wraps around', () => {
      const queue = filled(4, 4);
      queue.take(2);
      queue.push(4);
      queue.push(5);
      expect(queue.take(4)).toEqual([2, 3, 4, 5]);
    });
  });

  describe('putBack', () => {
    it('should put a batch back at the front in its order when there is room', () => {
      const queue = filled(10, 6);
      const batch = queue.take(4);
      queue.push(6);
      expect(queue.putBack(batch)).toBe(0);
      expect(queue.take(10)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it('should evict the oldest of the batch when putting it back overfills the queue', () => {
      const queue = filled(5, 5);
      const batch = queue.take(3); // 0 1 2
      queue.push(5);
      queue.push(6);
      queue.push(7); // queue: 3 4 5 6 7 (full)
      expect(queue.putBack(batch)).toBe(3);
      expect(queue.take(10)).toEqual([3, 4, 5, 6, 7]);
      const other = filled(5, 4);
      const back = other.take(2); // 0 1; queue: 2 3
      other.push(4);
      other.push(5); // 2 3 4 5
      expect(other.putBack(back)).toBe(1);
      expect(other.take(10)).toEqual([1, 2, 3, 4, 5]);
    });
  });

  it('should refuse a bound that is not a positive integer', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
