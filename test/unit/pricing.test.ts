import { costForHours, HOURS_PER_MONTH, HYBRID_VCPU_HOUR_USD, monthlyCost, vcpusOf } from '#lib/pricing';

describe('hybrid node cost (REFERENCE.md section 5)', () => {
  it('pins the price and the month', () => {
    expect(HYBRID_VCPU_HOUR_USD).toBe(0.1099);
    expect(HOURS_PER_MONTH).toBe(730);
  });

  it("gives the seed's figure for one 224-vCPU node, rounding the per-vCPU month first", () => {
    expect(monthlyCost(1, { rounding: 'per-vcpu-month' })).toBe(80.23);
    expect(monthlyCost(224, { rounding: 'per-vcpu-month' })).toBe(17971.52);
  });

  it('gives the unrounded figure for the same node', () => {
    expect(monthlyCost(224)).toBe(17970.85);
  });

  it("gives the seed's figure for ten such nodes", () => {
    expect(monthlyCost(2240, { rounding: 'per-vcpu-month' })).toBe(179715.2);
  });

  it('takes a configured price', () => {
    expect(monthlyCost(100, { pricePerVcpuHour: 0.2 })).toBe(14600);
  });

  it('prices a day of a NotReady node', () => {
    expect(costForHours(224, 24)).toBe(590.82); // 224 x 0.1099 x 24 = 590.8224
  });

  it.each([
    ['224', 224],
    ['3500m', 3.5],
    [undefined, 0],
  ])('reads vCPU capacity %p as %p', (capacity, vcpus) => {
    expect(vcpusOf(capacity)).toBe(vcpus);
  });
});
