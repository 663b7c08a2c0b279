import type { IBucketSpec } from "@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/BucketSpec";

/** The providers of Flux's `source.toolkit.fluxcd.io/v1` Bucket (`spec.provider`), from the CRD's own model. */
export type FluxBucketProvider = NonNullable<IBucketSpec["provider"]>;
