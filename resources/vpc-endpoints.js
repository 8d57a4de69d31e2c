/**
 * VPC endpoints for the functions that run in the cluster VPC (serverless.yml `vpc`:
 * checkResolution, probeBatch, checkSweepDns). A Lambda function attached to a VPC has no
 * public IP: it reaches AWS APIs only through a NAT gateway or VPC endpoints
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-internet.html), and without
 * either its calls hang until the function times out. Those three call S3 (the run store) and
 * Route 53 Resolver (the inbound endpoint's addresses), nothing else: their credentials come from
 * the Lambda environment and their logs go out through the Lambda service.
 *
 * Param `vpcEndpoints`: false (the default: a VPC with a NAT gateway, or endpoints of its own,
 * needs none), true (all of ENDPOINTS), or a comma-separated list of them (say `route53resolver`
 * when the route tables already have an S3 gateway endpoint: a route table takes one per service).
 */

/**
 * What the in-VPC functions call, and the kind of endpoint each service offers: S3 a gateway
 * endpoint (routes, free: https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html),
 * Route 53 Resolver an interface endpoint (https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html,
 * service com.amazonaws.<region>.route53resolver). test/infra/vpc-endpoints.test.ts checks this
 * against the clients those functions' handlers declare.
 */
const ENDPOINTS = {
  s3: { type: 'Gateway', logicalId: 'S3GatewayEndpoint' },
  route53resolver: { type: 'Interface', logicalId: 'Route53ResolverEndpoint' },
};

/** A list param: a YAML list, or one string of comma-separated values (as `--param` gives it). */
const list = (value) =>
  (Array.isArray(value) ? value : String(value ?? '').split(',')).map((v) => String(v).trim()).filter(Boolean);

/** The endpoints `vpcEndpoints` asks for; throws, saying what is allowed, on anything else. */
function wantedEndpoints(value) {
  const text = list(value);
  if (text.length === 0 || (text.length === 1 && text[0] === 'false')) return [];
  if (text.length === 1 && text[0] === 'true') return Object.keys(ENDPOINTS);
  const unknown = text.filter((t) => !(t in ENDPOINTS));
  if (unknown.length) {
    throw new Error(
      `param vpcEndpoints: ${unknown.join(', ')} is not an endpoint the in-VPC functions need. ` +
        `Allowed: true, false, or a comma-separated list of ${Object.keys(ENDPOINTS).join(', ')}.`,
    );
  }
  return [...new Set(text)];
}

/** The CloudFormation of the endpoints; throws, naming each missing or malformed param. */
function endpointResources(wanted, params) {
  const problems = [];
  const ids = (name, prefix, needed) => {
    const values = list(params[name]);
    if (needed && values.length === 0) problems.push(`${name} is empty`);
    for (const v of values)
      if (!new RegExp(`^${prefix}-[0-9a-f]+$`).test(v)) problems.push(`${name}: ${v} is not a ${prefix}- id`);
    return values;
  };
  const interfaces = wanted.filter((s) => ENDPOINTS[s].type === 'Interface');
  const vpcId = ids('vpcId', 'vpc', true)[0];
  const routeTables = ids('vpcRouteTableIds', 'rtb', wanted.includes('s3'));
  // The functions must be in the VPC for endpoints to matter, and interface endpoints go in their subnets.
  const subnets = ids('vpcSubnetIds', 'subnet', true);
  const groups = ids('vpcSecurityGroupIds', 'sg', true);
  if (problems.length) {
    throw new Error(
      `param vpcEndpoints=${wanted.join(',')} needs the cluster VPC: ${problems.join('; ')}. ` +
        'Set vpcId, vpcSubnetIds and vpcSecurityGroupIds (the functions run there), and vpcRouteTableIds ' +
        '(the route tables of those subnets) for the S3 gateway endpoint.',
    );
  }
  const resources = {};
  if (interfaces.length) {
    // Interface endpoints take HTTPS from the functions' security groups and nothing else.
    resources.VpcEndpointSecurityGroup = {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'eks-hybrid-ops VPC endpoints: HTTPS from the in-VPC functions',
        VpcId: vpcId,
        SecurityGroupIngress: groups.map((sg) => ({
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          SourceSecurityGroupId: sg,
          Description: 'eks-hybrid-ops functions (vpcSecurityGroupIds)',
        })),
      },
    };
  }
  for (const service of wanted) {
    const { type, logicalId } = ENDPOINTS[service];
    resources[logicalId] = {
      Type: 'AWS::EC2::VPCEndpoint',
      Properties: {
        VpcEndpointType: type,
        VpcId: vpcId,
        ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
        ...(type === 'Gateway'
          ? // The default policy (full access): the route tables serve the whole subnet, not only these functions.
            { RouteTableIds: routeTables }
          : // Private DNS: the SDK's default endpoint name resolves to the endpoint in this VPC.
            { SubnetIds: subnets, SecurityGroupIds: [{ Ref: 'VpcEndpointSecurityGroup' }], PrivateDnsEnabled: true }),
      },
    };
  }
  return resources;
}

module.exports = async ({ resolveVariable }) => {
  const wanted = wantedEndpoints(await resolveVariable('param:vpcEndpoints'));
  if (wanted.length === 0) return {};
  const params = {};
  for (const name of ['vpcId', 'vpcRouteTableIds', 'vpcSubnetIds', 'vpcSecurityGroupIds']) {
    params[name] = await resolveVariable(`param:${name}`);
  }
  return { Resources: endpointResources(wanted, params) };
};

module.exports.ENDPOINTS = ENDPOINTS;
