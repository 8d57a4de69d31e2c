/**
 * The stage's network desired state (config/<stage>.yaml), validated with the same zod schema
 * the functions use at run time, and deployed as an SSM parameter the reconciler reads. A file
 * that fails validation stops `osls package`/`deploy` with every problem listed.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** The validated desired state of a stage; throws with every problem when the file is invalid. */
function desiredState(stage) {
  require('tsx/cjs'); // the schema is TypeScript (lib/desired-state/schema.ts); tsx is a dev dependency
  const { parseDesiredState } = require('../lib/desired-state/file.ts');
  let text;
  try {
    text = readFileSync(join(__dirname, '..', 'config', `${stage}.yaml`), 'utf8');
  } catch {
    // No file for this stage: an empty desired state (plan only; apply is refused).
    text = 'version: 1\nclusters: []\n';
  }
  const result = parseDesiredState(text);
  if (!result.ok) throw new Error(`config/${stage}.yaml is invalid:\n  - ${result.problems.join('\n  - ')}`);
  return result.state;
}

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const value = JSON.stringify(desiredState(stage));
  return {
    Resources: {
      NetworkDesiredStateParameter: {
        Type: 'AWS::SSM::Parameter',
        Properties: {
          Name: `/eks-hybrid-ops/${stage}/desired-state/network`,
          Type: 'String',
          Tier: Buffer.byteLength(value) > 4096 ? 'Advanced' : 'Standard',
          Value: value,
          Description: `Network desired state of stage ${stage}, from config/${stage}.yaml (eks-hybrid-ops)`,
        },
      },
    },
  };
};

module.exports.desiredState = desiredState;
