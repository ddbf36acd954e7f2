// Builds the phone page into src/centrex/web/phone/ (shipped in the wheel: `centrex serve` needs
// no Node.js). esbuild bundles src/phone.js with JsSIP; index.html and phone.css are copied.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "centrex", "web", "phone");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "phone.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome110", "firefox115", "safari16"],
  outfile: join(out, "phone.js"),
  legalComments: "linked",
  logLevel: "warning",
});
for (const name of ["index.html", "phone.css"]) copyFileSync(join(here, "src", name), join(out, name));
console.log(`phone page built in ${out}`);
