// The backup action's entry point (dist/index.js after the ncc build).
import { run } from './main.js';

await run();
