// The parts of @pulumi/kubernetes that the flux components and stack use, each from its own module: the package's
// index loads every API group (about a hundred modules, 25 ms of a render) where these need three, the provider and
// Helm's Release (helm/v3's index also loads the old Chart class, and through its YAML support every group again).
// What the index adds besides the groups is the package's registration for turning provider references the engine
// sends back into Provider objects (registerResourcePackage), which nothing in these stacks reads.
import * as apiextensions from "@pulumi/kubernetes/apiextensions/index.js";
import * as core from "@pulumi/kubernetes/core/index.js";
import { Release as HelmRelease } from "@pulumi/kubernetes/helm/v3/release.js";
import { Provider } from "@pulumi/kubernetes/provider.js";
import * as rbac from "@pulumi/kubernetes/rbac/index.js";

export { apiextensions, core, HelmRelease, Provider, rbac };
