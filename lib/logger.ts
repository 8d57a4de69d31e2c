import { Logger } from '@aws-lambda-powertools/logger';

/** One logger, one service name. Never log a whole event or state: it may name secrets' holders. */
export const logger = new Logger({ serviceName: 'eks-hybrid-ops' });
