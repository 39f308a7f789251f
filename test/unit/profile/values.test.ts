import { copyBytes } from '../../../lambda/core/profile/values';

describe('copyBytes', () => {
  it('copies a short slice into the destination at the given offset', () => {
    const dst = Buffer.alloc(8, 0x2e);
    copyBytes(Buffer.from('xabcx'), 1, 4, dst, 2);
    expect(dst.toString()).toBe('..abc...');
  });

  it('copies a slice longer than the loop threshold whole', () => {
    const src = Buffer.from('0123456789'.repeat(10));
    const dst = Buffer.alloc(100);
    copyBytes(src, 5, 95, dst, 3);
    expect(dst.subarray(3, 93).toString()).toBe(src.subarray(5, 95).toString());
  });
});
