// The render benchmark's baseline: the smallest Pulumi program worth the name (one S3 bucket from
// @pulumi/aws) run through the same offline engine as `npm run render`, so the ratio shows what the
// stacks themselves cost on top of starting Node, the Pulumi SDK and a provider SDK. Run it as `node bench/baseline.js`,
// which starts it as `npm run render` starts (the compile cache on before any TypeScript). It imports "@pulumi/aws" as
// a one-resource program does; the components import only the classes they use (components/aws/sdk.ts).
const aws = await import("@pulumi/aws");
const { runOffline } = await import("../src/offline/engine.ts");

function program() {
    const bucket = new aws.s3.Bucket("baseline");
    return { bucketName: bucket.bucket };
}

runOffline(program, { project: "baseline", stack: "dev", config: { "aws:region": "us-east-1" } })
    .then((run) => console.log(`baseline: ${run.resources.length} resource(s), bucket ${run.outputs.bucketName}`))
    .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
