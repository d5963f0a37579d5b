// jest globalTeardown: stops the shared local stacks of test/setup/start-shared-stacks.ts.
import { stopSharedStacks } from './start-shared-stacks.ts';

export default stopSharedStacks;
