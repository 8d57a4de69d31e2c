/**
 * The page size this project asks of each paginated AWS API it calls: the largest its service
 * model allows, for the fewest round trips (and the fewest pages of a list a service filters page
 * by page, as SSM does). The SDK's types do not carry the ranges; each is from the service's model
 * (botocore `data/<service>/<version>/service-2.json`, the source of the API references), and the
 * sandbox refuses a size outside it as the service does. Every paginated call follows its
 * NextToken to the end: a page can hold fewer items than asked, or none, and still not be the last.
 */
export const PAGE_SIZE = {
  /** SSM DescribeInstanceInformation MaxResults: 5-50 (MaxResultsEC2Compatible); default 10. */
  ssmDescribeInstanceInformation: 50,
  /** SSM DescribeActivations MaxResults: 1-50. */
  ssmDescribeActivations: 50,
  /** EC2 DescribeSecurityGroupRules and DescribeSubnets MaxResults: 5-1000. */
  ec2Describe: 1000,
  /** Route 53 Resolver ListResolverRules, ListResolverRuleAssociations MaxResults: 1-100; default 100. */
  resolverList: 100,
  /** EKS ListInsights maxResults: 1-100; default 100. */
  eksListInsights: 100,
} as const;
