import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '../../local/gateway';
import { buildStack, logicalId } from './helpers';

/** What local mode copies from the stack, checked against the synthesized template. */
const { stack } = buildStack();
const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Timeout?: number } }>;

describe('local mode and the stack', () => {
  it('times each API function out when the deployed function does', () => {
    const deployed = Object.fromEntries(
      Object.keys(DEFAULT_FUNCTION_TIMEOUT_SECONDS).map((name) => [
        name,
        resources[logicalId(stack.functions[name as keyof typeof DEFAULT_FUNCTION_TIMEOUT_SECONDS])]!.Properties.Timeout,
      ]),
    );
    expect(DEFAULT_FUNCTION_TIMEOUT_SECONDS).toEqual(deployed);
  });
});
