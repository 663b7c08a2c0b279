// The render benchmark's baseline, started as `npm run render` starts (bin/render.js): a JavaScript entry that does the
// Node check and switches the compile cache on (startTypeScript) before any TypeScript loads. A .ts entry would make
// Node start its type stripper for the entry itself, about 30 ms that a render does not pay; the program is baseline.ts.
import { startTypeScript } from "../bin/requireNode.js";

startTypeScript("the render baseline");
await import("./baseline.ts");
