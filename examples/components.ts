import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { aws as bucketops, flux } from "../components/index.ts"; // this repository's components/

const kubeconfig = new pulumi.Config().requireSecret("kubeconfig");

const provider = new aws.Provider("eu", { region: "eu-west-1" });
const store = new bucketops.FluxBucket("manifests", { noncurrentVersionDays: 30 }, { providers: [provider] });

const cluster = new k8s.Provider("cluster", { kubeconfig });
const install = new flux.FluxInstall("flux", { namespace: "flux-system", chartVersion: "2.18.3" }, { providers: [cluster] });
new flux.BucketSync(
    "flux-bucket",
    {
        namespace: install.namespaceName,
        bucket: { provider: "aws", bucketName: store.bucketName, endpoint: store.endpoint, region: store.region, interval: "1m" },
        credentials: { accessKey: store.reader!.accessKeyId, secretKey: store.reader!.secretAccessKey },
        kustomization: { path: "./clusters/dev", prune: true, interval: "10m" },
    },
    { providers: [cluster], dependsOn: [install] },
);
