/** The reusable components, one namespace per cloud concern: `import { aws, flux } from "flux-bucket/components"`. */
export * as aws from "./aws/index.ts";
export * as civo from "./civo/index.ts";
export * as flux from "./flux/index.ts";
export * as gcp from "./gcp/index.ts";
