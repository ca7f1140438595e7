/**
 * The overload shedder's admission budget: it grows only while the loop idles right after shedding (bursts
 * it could have served more of), and shrinks by the standing part of a queue that no longer drains.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionBudget } from '../../src/http/overload.ts';

const LIMIT = 100;

test('starts at the limit and keeps it while the loop idles without shedding', () => {
  const budget = new AdmissionBudget(LIMIT, 0);
  for (let t = 10; t <= 1000; t += 10) budget.sample(t, 10, 0);
  assert.equal(budget.ms, LIMIT);
});

test('grows by half the idle time that follows a 503, within the budget plus the limit', () => {
  const budget = new AdmissionBudget(LIMIT, 0);
  budget.shed(0);
  budget.sample(150, 10, 0);
  assert.equal(budget.ms, 105);
  // 205 ms after the 503 is past the window of 105 + 100 ms: this idle time says nothing about it.
  budget.sample(206, 10, 0);
  assert.equal(budget.ms, 105);
});

test('grows no further than ten times the limit', () => {
  const budget = new AdmissionBudget(LIMIT, 0);
  for (let t = 10; t <= 100_000; t += 10) {
    budget.shed(t - 5);
    budget.sample(t, 10, 0);
  }
  assert.equal(budget.ms, 10 * LIMIT);
});

/** A budget grown to 300 ms by bursts, as the loop last idled at `t` ms. */
function grown(): { budget: AdmissionBudget; t: number } {
  const budget = new AdmissionBudget(LIMIT, 0);
  let t = 0;
  while (budget.ms < 300) {
    t += 10;
    budget.shed(t - 5);
    budget.sample(t, 10, 0);
  }
  return { budget, t };
}

test('a queue that never drains is cut by its standing part once busy for the budget plus the limit', () => {
  const { budget, t } = grown();
  const before = budget.ms;
  // Bursts that arrive just before the queue would drain: it never falls below 40 ms of expected wait.
  for (let now = t + 10; now - t <= before + LIMIT + 10; now += 10)
    budget.sample(now, 0, 40 + ((now / 10) % 5) * 50);
  assert.equal(budget.ms, before - 40);
});

test('a busy loop whose queue still drains keeps its budget', () => {
  const { budget, t } = grown();
  const before = budget.ms;
  for (let now = t + 10; now - t <= 10 * before; now += 10) budget.sample(now, 0, now % 100 === 0 ? 0 : 200);
  assert.equal(budget.ms, before);
});

test('a steady overload (the queue full all the time) returns the budget to the limit in one cut', () => {
  const { budget, t } = grown();
  const before = budget.ms;
  let now = t + 10;
  for (; now - t <= before + LIMIT + 10; now += 10) budget.sample(now, 0, before - 3);
  assert.equal(budget.ms, LIMIT);
  // At the limit, a full queue is what a steady overload looks like: nothing more to cut.
  for (; now - t <= 5000; now += 10) budget.sample(now, 0, LIMIT);
  assert.equal(budget.ms, LIMIT);
});
