import { MAX_PARTS, planParts } from '../../../lambda/core/multipart';
import { GiB, MiB, TiB } from '../../../lambda/shared/config';

describe('planParts', () => {
  it('uses 8 MiB parts just above a 64 MiB threshold', () => {
    expect(planParts(64 * MiB + 1)).toEqual({ partSize: 8 * MiB, partCount: 9 });
  });

  it('keeps 8 MiB parts while 10,000 of them are enough', () => {
    expect(planParts(10_000 * 8 * MiB)).toEqual({ partSize: 8 * MiB, partCount: 10_000 });
  });

  it('grows to 9 MiB one byte past 10,000 parts of 8 MiB', () => {
    expect(planParts(10_000 * 8 * MiB + 1)).toEqual({ partSize: 9 * MiB, partCount: 8889 });
  });

  it('plans 80 GiB in whole-MiB parts within 10,000 parts', () => {
    const plan = planParts(80 * GiB);

    expect(plan.partSize).toBe(9 * MiB);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(80 * GiB);
  });

  it('plans 5 TiB with 525 MiB parts, under the 5 GiB part limit', () => {
    expect(planParts(5 * TiB)).toEqual({ partSize: 525 * MiB, partCount: 9987 });
  });

  it('refuses sizes it cannot plan', () => {
    expect(() => planParts(0)).toThrow(RangeError);
    expect(() => planParts(60_000 * GiB)).toThrow(RangeError);
  });
});
