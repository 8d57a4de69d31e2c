import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL, type Measured, NO_USAGE, parsePrices, type Usage } from '#lib/footprint';
import { FOOTPRINT_NODES, footprintReport, replaceSection } from '../../scripts/bench-footprint';

const usage = (part: Partial<Usage>): Usage => ({ ...NO_USAGE, ...part });
const prices = () => parsePrices(JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'prices.json'), 'utf8')));

const measured = (ceRequests: number): Measured => ({
  onboarding: usage({ transitions: 38, apiRequests: 2 }),
  offboarding: usage({ transitions: 56, apiRequests: 1 }),
  statusPoll: usage({ apiRequests: 1 }),
  reconcile: usage({ transitions: 10 }),
  sweep: Object.fromEntries(FOOTPRINT_NODES.map((n) => [n, usage({ transitions: 12, ceRequests })])),
});

describe("the bench report's footprint section", () => {
  const section = () =>
    footprintReport({
      measured: measured(4),
      pinned: measured(2),
      model: DEFAULT_MODEL,
      prices: prices(),
      fixed: { customMetrics: 12, alarms: 20, dashboards: 1 },
    });

  it('has the bill at 10, 100 and 1,000 nodes, its total, and the total with the Cost Explorer names pinned', () => {
    const text = section().join('\n');
    expect(text).toMatch(
      /^\| item \| 10 nodes: quantity \| USD \| 100 nodes: quantity \| USD \| 1,000 nodes: quantity \| USD \|$/m,
    );
    // 4 Cost Explorer requests a night, 30.4 nights: 122 requests, 1.22 USD, at every size.
    expect(text).toMatch(/^\| Cost Explorer API requests \| 122 \| 1\.22 \| 122 \| 1\.22 \| 122 \| 1\.22 \|$/m);
    expect(text).toMatch(/^\| \*\*total, outside CloudWatch's fixed items\*\* \|/m);
    expect(text).toMatch(/^\| total with sweep\.costService and sweep\.hybridUsageTypes pinned \|/m);
  });

  it("lists CloudWatch's fixed items apart and states the Cost Explorer requests a night", () => {
    const text = section().join('\n');
    expect(text).toMatch(/^\| CloudWatch alarms \(standard resolution\) \| 20 \| 2\.00 \|$/m);
    expect(text).toMatch(/^\| CloudWatch dashboards \| 1 \| 3\.00 \|$/m);
    expect(text).toMatch(/Cost Explorer requests a night .*: 4 at 10 nodes, 4 at 100 nodes, 4 at 1,000 nodes/);
    expect(text).toMatch(/pinned in\nconfig\/<stage>\.yaml: 2 at 10 nodes/);
  });

  it('states the operating model next to the table', () => {
    expect(section().join('\n')).toMatch(/0\.1 onboardings and 0\.05 offboardings per node per month/);
  });
});

describe('rewriting one section of bench/report.md', () => {
  const report = [
    '# Benchmark report',
    '',
    '## A',
    'a',
    '',
    "## The tool's own bill (footprint)",
    'old',
    '',
    '## C',
    'c',
    '',
  ].join('\n');

  it('replaces the section in place and keeps the others', () => {
    const out = replaceSection(report, ["## The tool's own bill (footprint)", 'new', '']);
    expect(out).toBe(
      [
        '# Benchmark report',
        '',
        '## A',
        'a',
        '',
        "## The tool's own bill (footprint)",
        'new',
        '',
        '## C',
        'c',
        '',
      ].join('\n'),
    );
  });

  it('adds the section at the end when the report has none', () => {
    expect(replaceSection('# Benchmark report\n\n## A\na\n', ['## B', 'b', ''])).toBe(
      '# Benchmark report\n\n## A\na\n\n## B\nb\n',
    );
  });
});
