// Makes the fake-camera clip from the repository's test photo:
//   node tests/e2e/make-y4m.mjs [photo] [out.y4m]
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { makeY4m } from "./fixtures.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
const photo = process.argv[2] ?? resolve(root, "tests/data/photos/astronaut.png");
const out = process.argv[3] ?? resolve(root, "ui/portal/test-results/astronaut.y4m");
await import("node:fs/promises").then((fs) => fs.mkdir(dirname(out), { recursive: true }));
await makeY4m(photo, out);
console.log(out);
