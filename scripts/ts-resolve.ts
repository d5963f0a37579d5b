// For scripts that Node runs from source (type stripping): the sources import each other with
// `.js` specifiers (for tsc, jest and ncc), so map those to the `.ts` files. Import this first;
// modules that need the mapping must then be loaded with a dynamic import().
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.startsWith('file:')) {
      const asTs = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
      if (!existsSync(new URL(specifier, context.parentURL)) && existsSync(asTs))
        return next(asTs.href, context);
    }
    return next(specifier, context);
  },
});
