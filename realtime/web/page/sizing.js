// The working size: the long side of the frame the generator sees. It steps down while frames take longer
// than the budget and back up while the next size up would fit it (a frame's cost grows with its area);
// ] and [ set the largest size it may reach. `?size=N` pins it.

const SETTLE_FRAMES = 10; // frames timed at a size before it may change again: the first ones pay warm-up

export class WorkingSize {
  constructor(steps, start, budgetMs, pinned) {
    this.steps = steps;
    this.budgetMs = budgetMs;
    this.pinned = pinned > 0;
    this.current = this.pinned ? pinned : start;
    this.cap = this.pinned ? pinned : steps[steps.length - 1];
    this.times = [];
  }

  // The generator's frame for a camera frame: aspect kept, sides multiples of 4 (the generator's), never enlarged.
  frame(width, height) {
    const scale = Math.min(1, this.current / Math.max(width, height));
    const side = (v) => Math.max(16, Math.round((v * scale) / 4) * 4);
    return { width: side(width), height: side(height) };
  }

  // One frame's generator time; true when the size changed.
  observe(ms) {
    if (this.pinned) return false;
    this.times.push(ms);
    if (this.times.length < SETTLE_FRAMES) return false;
    const typical = [...this.times].sort((a, b) => a - b)[this.times.length >> 1];
    this.times.shift();
    const smaller = this.steps.filter((s) => s < this.current).pop();
    const larger = this.steps.find((s) => s > this.current && s <= this.cap);
    if (typical > this.budgetMs * 1.2 && smaller) return this.#moveTo(smaller);
    if (larger && typical * (larger / this.current) ** 2 < this.budgetMs * 0.8) return this.#moveTo(larger);
    return false;
  }

  // ] (+1) and [ (−1): the largest size the adaptation may reach, and the size now; false at either end.
  step(direction) {
    const next = direction > 0 ? this.steps.find((s) => s > this.current) : this.steps.filter((s) => s < this.current).pop();
    if (!next) return false;
    this.cap = next;
    return this.#moveTo(next);
  }

  #moveTo(size) {
    this.current = size;
    this.times = [];
    return true;
  }
}
