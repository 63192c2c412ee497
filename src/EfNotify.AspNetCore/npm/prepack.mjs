// Copies the client and its types from EfNotify.AspNetCore's wwwroot, the one place they are kept, into this package.
import { copyFileSync } from 'node:fs';

for (const file of ['efnotify.js', 'efnotify-elements.js', 'efnotify.d.ts']) {
  copyFileSync(new URL(`../wwwroot/${file}`, import.meta.url), new URL(`./${file}`, import.meta.url));
}
