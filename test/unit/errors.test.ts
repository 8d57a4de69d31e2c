import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ERROR_NAMES,
  isTransientAwsError,
  SFN_TRANSIENT_ERRORS,
  SNS_PERMANENT_ERRORS,
  splitFix,
  UnsupportedOperatingSystemError,
} from '#lib/errors';

const STATEMACHINES = join(__dirname, '..', '..', 'statemachines');

function errorEquals(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(errorEquals);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'ErrorEquals' && Array.isArray(value) ? (value as string[]) : errorEquals(value),
  );
}

describe('error names in the workflows', () => {
  const files = readdirSync(STATEMACHINES).filter((f) => f.endsWith('.asl.json'));

  it('finds the workflows', () => {
    expect(files).toContain('onboard-node.asl.json');
  });

  it.each(files)(
    '%s matches only exported error names, reserved States.*/Lambda.* names, or known SNS and Step Functions ones',
    (file) => {
      const names = errorEquals(JSON.parse(readFileSync(join(STATEMACHINES, file), 'utf8')));
      expect(names.length).toBeGreaterThan(0);
      const known = [...ERROR_NAMES, ...SNS_PERMANENT_ERRORS, ...SFN_TRANSIENT_ERRORS];
      const unknown = names.filter((n) => !known.includes(n) && !/^(States|Lambda)\.[A-Za-z]+$/.test(n));
      expect(unknown).toEqual([]);
    },
  );
});

describe('domain errors', () => {
  it('carry a literal name and a fix that splitFix gives back', () => {
    const error = new UnsupportedOperatingSystemError('rocky-9 is not supported.', 'Install Ubuntu 22.04.');
    expect(error.name).toBe('UnsupportedOperatingSystemError');
    expect(error.message).toBe('rocky-9 is not supported. Fix: Install Ubuntu 22.04.');
    expect(splitFix(error.message)).toEqual({ problem: 'rocky-9 is not supported.', fix: 'Install Ubuntu 22.04.' });
  });

  it('names the node lifecycle errors the offboarding and upgrade workflows match', () => {
    expect(ERROR_NAMES).toEqual(
      expect.arrayContaining([
        'NodeNotFoundError',
        'NotHybridNodeError',
        'DrainBlockedError',
        'NodeCommandFailedError',
        'NodeCommandTimeoutError',
        'NodeUpgradeTimeoutError',
        'UpgradeStoppedError',
        'NodeBusyError',
      ]),
    );
  });

  it('has unique names', () => {
    expect(new Set(ERROR_NAMES).size).toBe(ERROR_NAMES.length);
  });
});

describe('isTransientAwsError', () => {
  it.each([
    [Object.assign(new Error('slow down'), { name: 'ThrottlingException' }), true],
    [Object.assign(new Error('busy'), { name: 'Whatever', $metadata: { httpStatusCode: 503 } }), true],
    [Object.assign(new Error('retry me'), { name: 'Whatever', $retryable: {} }), true],
    [Object.assign(new Error('no'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }), false],
    [new UnsupportedOperatingSystemError('x', 'y'), false],
    ['not an error', false],
  ])('%p -> %p', (error, expected) => {
    expect(isTransientAwsError(error)).toBe(expected);
  });
});
