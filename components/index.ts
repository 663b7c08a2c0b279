/** The reusable components, one namespace per cloud concern: `import { aws, flux } from "flux-bucket/components"`. */
export * as aws from "./aws";
export * as civo from "./civo";
export * as flux from "./flux";
export * as gcp from "./gcp";
