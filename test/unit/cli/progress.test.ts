import { formatBytes, formatDuration, renderProgress } from '../../../cli/progress';

describe('progress formatting', () => {
  it('formats byte counts with binary units', () => {
    expect([512, 2048, 5 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytes)).toEqual(['512 B', '2.0 KiB', '5.0 MiB', '3.0 GiB']);
  });

  it('formats durations as m:ss or h:mm:ss and unknown ones as --:--', () => {
    expect([5, 65, 3725, Number.NaN].map(formatDuration)).toEqual(['0:05', '1:05', '1:02:05', '--:--']);
  });

  it('shows the fraction, the rate and the time left', () => {
    expect(renderProgress(50 * 1024 * 1024, 100 * 1024 * 1024, 5, 10)).toBe('[#####-----]  50% 50.0 MiB/100.0 MiB 10.0 MiB/s ETA 0:05');
  });
});
