// The restore sub-action's entry point (dist/restore/index.js after the ncc build).
import { run } from './main.js';

await run();
