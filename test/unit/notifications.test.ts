import { SNS_SUBJECT_MAX_LENGTH, snsSubject } from '#lib/notifications';

describe('snsSubject', () => {
  it('caps at 99 characters: SNS takes subjects "less than 100 characters long"', () => {
    expect(SNS_SUBJECT_MAX_LENGTH).toBe(99);
  });

  it('keeps a 99-character subject as it is', () => {
    const text = 'x'.repeat(99);

    expect(snsSubject(text)).toBe(text);
  });

  it('shortens a 100-character subject to 99, ending in "..."', () => {
    const subject = snsSubject(`[CRITICAL] ${'y'.repeat(89)}`);

    expect(subject).toHaveLength(99);
    expect(subject).toBe(`[CRITICAL] ${'y'.repeat(85)}...`);
  });

  it('replaces what is not printable ASCII, line breaks included', () => {
    expect(snsSubject('node\nready — ok')).toBe('node?ready ? ok');
  });
});
