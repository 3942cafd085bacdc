// Hybrid logical clock (engine/include/tram/engine/hlc.hpp, HybridClock in hlc.cpp): a change
// set's [wall_ms, counter] keeps a device's own edits in order even when the phone's clock is
// wrong or jumps backwards. The merge ranks writes by wall_ms × 65,536 + counter.

export const MAX_WALL_MS = 2 ** 47 - 1; // year 6429
export const MAX_COUNTER = 65535;

export class Hlc {
  /** Restores persisted state (toJSON's output), so that timestamps never repeat. */
  constructor({ wall = 0, counter = 0 } = {}) {
    this.wall = wall;
    this.counter = counter;
  }

  /**
   * The timestamp for a local event: greater than every one issued or observed before, even if
   * `nowMs` went backwards (then the counter counts on from the last one).
   */
  tick(nowMs = Date.now()) {
    // A clock before 1970 or past the format's range is clamped; the counter keeps order.
    const wall = Math.min(Math.max(Math.floor(nowMs), 0), MAX_WALL_MS);
    if (wall > this.wall) {
      this.wall = wall;
      this.counter = 0;
    } else if (this.counter < MAX_COUNTER) {
      this.counter += 1;
    } else {
      // 65,536 events in one millisecond, or a clock standing still: borrow the next millisecond
      // rather than repeat a timestamp.
      this.wall += 1;
      this.counter = 0;
    }
    return [this.wall, this.counter];
  }

  /** Merges a timestamp seen elsewhere: later local ticks come after it. */
  observe(wallMs, counter = 0) {
    if (!Number.isInteger(wallMs) || wallMs < 0 || wallMs > MAX_WALL_MS) return;
    if (wallMs > this.wall || (wallMs === this.wall && counter > this.counter)) {
      this.wall = wallMs;
      this.counter = counter;
    }
  }

  toJSON() {
    return { wall: this.wall, counter: this.counter };
  }
}

/** The merge's integer for [wall, counter] (a BigInt: it exceeds 2^53). */
export function packHlc([wall, counter]) {
  return (BigInt(wall) << 16n) | BigInt(counter);
}

/**
 * [wall, counter] of a pulled cell's rank. A write whose clock the server judged ahead has rank
 * INT64_MIN + packed (engine/src/store.cpp rank_of): below every trusted one.
 */
export function unpackRank(rank) {
  const r = BigInt(rank);
  const packed = r < 0n ? r + (1n << 63n) : r;
  return { wall: Number(packed >> 16n), counter: Number(packed & 0xffffn), clockAhead: r < 0n };
}
