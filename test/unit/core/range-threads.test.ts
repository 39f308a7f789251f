import { lambdaRangeThreads } from '../../../lambda/core/ranged-profile';
import { SERVICE_FUNCTIONS } from '../../../lambda/shared/grants';

describe('lambdaRangeThreads', () => {
  it('runs one thread where Lambda shows two cores but pays for less than two vCPUs', () => {
    expect(lambdaRangeThreads(2, 1024)).toBe(1);
    expect(lambdaRangeThreads(2, 3537)).toBe(1);
  });

  it('runs one thread per vCPU the memory pays for, at most the cores shown', () => {
    expect(lambdaRangeThreads(2, 3538)).toBe(2);
    expect(lambdaRangeThreads(6, 10240)).toBe(5);
    expect(lambdaRangeThreads(3, 10240)).toBe(3);
  });

  it('uses the cores outside Lambda, where no memory size is set', () => {
    expect(lambdaRangeThreads(4, Number(undefined))).toBe(4);
    expect(lambdaRangeThreads(1, undefined)).toBe(1);
  });

  it('gives the process function two range threads', () => {
    expect(lambdaRangeThreads(2, SERVICE_FUNCTIONS.process.memorySize)).toBe(2);
  });
});
