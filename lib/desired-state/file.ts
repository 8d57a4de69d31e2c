import { parse } from 'yaml';
import { type ConfigResult, validateDesiredState } from './schema';

/** Parses and validates a desired-state file's text. */
export function parseDesiredState(text: string): ConfigResult {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    return { ok: false, problems: [`(file): not YAML: ${(error as Error).message}`] };
  }
  return validateDesiredState(value);
}
