import { matchesSelector, parseSelector } from '#lib/upgrades/selector';

const labels = { 'node-type': 'hybrid', gpu: 'h100', 'topology.kubernetes.io/zone': 'dc1' };

function select(text: string) {
  const parsed = parseSelector(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return matchesSelector(parsed.requirements, labels);
}

describe('label selectors, as kubectl -l takes them', () => {
  it.each([
    ['gpu=h100', true],
    ['gpu==h100', true],
    ['gpu!=h100', false],
    ['gpu=a100', false],
    ['gpu', true],
    ['!gpu', false],
    ['!missing', true],
    ['missing!=x', true],
    ['gpu in (a100, h100)', true],
    ['gpu notin (a100,h100)', false],
    ['missing notin (x)', true],
    ['node-type=hybrid,gpu=h100', true],
    ['node-type=hybrid, gpu in (h100), topology.kubernetes.io/zone=dc1', true],
    ['node-type=hybrid,gpu=a100', false],
  ])('%s matches: %s', (text, expected) => {
    expect(select(text)).toBe(expected);
  });

  it('lists every malformed requirement, saying what is allowed', () => {
    const parsed = parseSelector('gpu=h100,,bad key=x,gpu in (a b),-x-=1');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(4);
    expect(parsed.problems[0]).toContain('empty requirement');
    expect(parsed.problems[1]).toContain("'bad key=x' is not a requirement (key=value");
    expect(parsed.problems[2]).toContain("in 'gpu in (a b)': label value 'a b'");
    expect(parsed.problems[3]).toContain("label key name '-x-'");
  });

  it('refuses unbalanced or nested parentheses', () => {
    expect(parseSelector('gpu in (a,(b))')).toEqual({ ok: false, problems: [expect.stringContaining('parentheses')] });
    expect(parseSelector('gpu in (a')).toEqual({ ok: false, problems: [expect.stringContaining('parentheses')] });
  });
});
