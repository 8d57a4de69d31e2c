import { judgeOs, normaliseOs, SUPPORTED_OPERATING_SYSTEMS } from '#lib/domain/operating-systems';

const SUPPORTED_LIST = 'supported: ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, rhel-8, rhel-9, al2023';

describe('SUPPORTED_OPERATING_SYSTEMS', () => {
  it('is exactly Ubuntu 20.04/22.04/24.04, RHEL 8/9 and Amazon Linux 2023 (REFERENCE.md section 1)', () => {
    expect([...SUPPORTED_OPERATING_SYSTEMS]).toEqual([
      'ubuntu-20.04',
      'ubuntu-22.04',
      'ubuntu-24.04',
      'rhel-8',
      'rhel-9',
      'al2023',
    ]);
  });
});

describe('normaliseOs', () => {
  it.each([
    ['ubuntu-22.04', 'ubuntu-22.04'],
    ['Ubuntu 22.04', 'ubuntu-22.04'],
    ['ubuntu22.04', 'ubuntu-22.04'],
    ['Ubuntu_24.04', 'ubuntu-24.04'],
    ['  UBUNTU 20.04  ', 'ubuntu-20.04'],
    ['RHEL 9', 'rhel-9'],
    ['rhel8', 'rhel-8'],
    ['AL2023', 'al2023'],
    ['Amazon Linux 2023', 'al2023'],
    ['amazon-linux-2023', 'al2023'],
    ['Rocky 9', 'rocky-9'],
    ['Bottlerocket', 'bottlerocket'],
    ['Windows Server 2022', 'windows-server-2022'],
  ])('turns %p into %p', (raw, id) => {
    expect(normaliseOs(raw)).toBe(id);
  });
});

describe('judgeOs', () => {
  it.each([
    ['ubuntu-20.04', 'ubuntu-20.04'],
    ['Ubuntu 22.04', 'ubuntu-22.04'],
    ['ubuntu-24.04', 'ubuntu-24.04'],
    ['RHEL 8', 'rhel-8'],
    ['rhel-9', 'rhel-9'],
    ['AL2023', 'al2023'],
    ['Amazon Linux 2023', 'al2023'],
  ])('supports %p as %s', (raw, os) => {
    expect(judgeOs(raw)).toEqual({ supported: true, os });
  });

  it.each(['bottlerocket', 'Bottlerocket', 'bottlerocket-1.20'])(
    'rejects %p: Bottlerocket is no longer supported',
    (raw) => {
      expect(judgeOs(raw)).toEqual({
        supported: false,
        reason: `Bottlerocket is no longer supported for hybrid nodes joined with nodeadm; ${SUPPORTED_LIST}`,
      });
    },
  );

  it.each(['rocky-9', 'Rocky 8', 'rocky'])('rejects %p: Rocky Linux is outside AWS Support', (raw) => {
    expect(judgeOs(raw)).toEqual({
      supported: false,
      reason: `Rocky Linux is not supported for EKS Hybrid Nodes (it is outside AWS Support); ${SUPPORTED_LIST}`,
    });
  });

  it.each(['centos-7', 'CentOS 8', 'amzn2', 'al2', 'amazon-linux-2'])(
    'rejects %p as not on the support list',
    (raw) => {
      expect(judgeOs(raw)).toEqual({
        supported: false,
        reason: `this OS is not on the EKS Hybrid Nodes support list; ${SUPPORTED_LIST}`,
      });
    },
  );

  it.each(['windows-2022', 'ubuntu-18.04', 'ubuntu-23.10', 'rhel-7', 'rhel-10', 'debian-12', ''])(
    'rejects %p with the name given and the supported list',
    (raw) => {
      expect(judgeOs(raw)).toEqual({
        supported: false,
        reason: `'${raw}' is not a supported hybrid node OS; ${SUPPORTED_LIST}`,
      });
    },
  );
});
