import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadServerlessConfig } from '#cli/serverless-config';
import { ENDPOINT_SERVICES } from '#lib/aws/clients';
import type { DeclaredClients } from '#functions/commons/declared-clients';
import { packageService } from '#scripts/artefacts';

/**
 * A stage deployed into the cluster VPC with `vpcEndpoints: true`: the functions that must run
 * there are attached to its subnets, and the stack gives them a way out to every AWS API they
 * call (they have no NAT): an S3 gateway endpoint on the route tables and an interface endpoint
 * for each other service, behind a security group that takes HTTPS from the functions. The
 * default stage creates none (test/infra/template.test.ts).
 */

const ROOT = join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation is untyped JSON
type Any = any;
const STAGE = 'vpctest';
const VPC = {
  vpcEndpoints: 'true',
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcRouteTableIds: ['rtb-0aa1a1a1a1a1a1a1a', 'rtb-0bb2b2b2b2b2b2b2b'],
  vpcSubnetIds: ['subnet-0aa1a1a1a1a1a1a1a', 'subnet-0bb2b2b2b2b2b2b2b'],
  vpcSecurityGroupIds: ['sg-0123456789abcdef0'],
  resolutionChecks: 'true',
  connectivityProbes: 'true',
};
const CONFIG = `serverless.vpc-endpoints-test-${process.pid}.yml`;
const WORK_FOLDER = `.esbuild-vpc-endpoints-test-${process.pid}`;
let template: { Resources: Record<string, { Type: string; Properties: Any }> };

beforeAll(() => {
  // The stage's params as a deployer sets them (lists cannot be given with --param): serverless.yml
  // with a `params.vpctest` block, beside it so that its ${file(...)} references resolve.
  const config = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'));
  config.params[STAGE] = VPC;
  writeFileSync(join(ROOT, CONFIG), stringify(config));
  const out = mkdtempSync(join(tmpdir(), 'hybridops-vpc-'));
  try {
    packageService(out, { stage: STAGE, config: CONFIG, workFolder: WORK_FOLDER });
    template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
  } finally {
    rmSync(join(ROOT, CONFIG), { force: true });
    rmSync(join(ROOT, WORK_FOLDER), { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
}, 600_000);

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const serviceOf = (endpoint: Any) => {
  const name: string = endpoint.Properties.ServiceName['Fn::Sub'];
  expect(name).toMatch(/^com\.amazonaws\.\$\{AWS::Region\}\.[a-z0-9-]+$/);
  return name.split('.').pop() as string;
};

/** The functions attached to the VPC, by serverless.yml key. */
function functionsInVpc(): string[] {
  const keys = Object.keys(loadServerlessConfig(STAGE).functions);
  return ofType('AWS::Lambda::Function')
    .filter(([, fn]) => fn.Properties.VpcConfig)
    .map(([id]) => keys.find((k) => `${k[0]?.toUpperCase()}${k.slice(1)}LambdaFunction` === id) ?? id)
    .sort();
}

describe('a stage in the cluster VPC with vpcEndpoints', () => {
  it('attaches the DNS checks and the probes to the VPC', () => {
    expect(functionsInVpc()).toEqual(['checkResolution', 'checkSweepDns', 'probeBatch']);
    for (const [, fn] of ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties.VpcConfig)) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: VPC.vpcSubnetIds,
        SecurityGroupIds: VPC.vpcSecurityGroupIds,
      });
    }
  });

  it('has an endpoint for each AWS service those functions call, and no other', () => {
    const functions = loadServerlessConfig(STAGE).functions;
    const called = new Set(
      functionsInVpc().flatMap((key) =>
        (require(join(ROOT, functions[key]?.module ?? '')) as { clients: DeclaredClients }).clients.sends.map(
          (s) => ENDPOINT_SERVICES[s],
        ),
      ),
    );
    expect([...called].sort()).toEqual(['route53resolver', 's3']);
    expect(
      ofType('AWS::EC2::VPCEndpoint')
        .map(([, e]) => serviceOf(e))
        .sort(),
    ).toEqual([...called].sort());
  });

  it('routes S3 through a gateway endpoint on the route tables of the subnets', () => {
    const [s3, ...more] = ofType('AWS::EC2::VPCEndpoint').filter(([, e]) => serviceOf(e) === 's3');
    expect(more).toEqual([]);
    expect(s3?.[1].Properties).toEqual({
      VpcEndpointType: 'Gateway',
      VpcId: VPC.vpcId,
      ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.s3' },
      RouteTableIds: VPC.vpcRouteTableIds,
    });
  });

  it('reaches Route 53 Resolver through an interface endpoint with private DNS, in the functions subnets', () => {
    const resolver = ofType('AWS::EC2::VPCEndpoint').find(([, e]) => serviceOf(e) === 'route53resolver');
    expect(resolver?.[1].Properties).toEqual({
      VpcEndpointType: 'Interface',
      VpcId: VPC.vpcId,
      ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.route53resolver' },
      SubnetIds: VPC.vpcSubnetIds,
      SecurityGroupIds: [{ Ref: 'VpcEndpointSecurityGroup' }],
      PrivateDnsEnabled: true,
    });
  });

  it("lets the interface endpoints take HTTPS from the functions' security group only", () => {
    const groups = ofType('AWS::EC2::SecurityGroup');
    expect(groups.map(([id]) => id)).toEqual(['VpcEndpointSecurityGroup']);
    expect(groups[0]?.[1].Properties.VpcId).toBe(VPC.vpcId);
    expect(groups[0]?.[1].Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: 'sg-0123456789abcdef0',
      }),
    ]);
  });
});
