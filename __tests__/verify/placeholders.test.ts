import { ACCOUNT } from '../../scripts/verify/placeholders';
import { EXAMPLE_ACCOUNT_ID, isPlaceholderAccountId } from '../../stacks/config';

describe('verify placeholders', () => {
  it('make up ARNs in the config module\'s example account, which config flags as a placeholder', () => {
    expect(ACCOUNT).toBe(EXAMPLE_ACCOUNT_ID);
    expect(isPlaceholderAccountId(ACCOUNT)).toBe(true);
  });
});
