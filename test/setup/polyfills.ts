// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22+). This machine runs Node 20;
// Lambda runs nodejs22.x, which has it natively.
import '#lib/polyfills';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The functions log failures as JSON; tests that care about logs raise the level themselves.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
