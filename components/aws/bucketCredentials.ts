import * as aws from "./sdk.ts";
import * as pulumi from "@pulumi/pulumi";
import { checkPrefix } from "../environments.ts";
import { type BucketAccess, accessPolicy } from "./policies.ts";

export interface BucketCredentialsArgs {
    /** ARN of the bucket the policy allows. */
    bucketArn: pulumi.Input<string>;
    /** `read` for Flux, `write` for uploads. */
    access: BucketAccess;
    /** Limit the identity to the keys under this prefix (normalized, e.g. `prod/`): an environment. Unset: the whole bucket. */
    prefix?: string;
    /** An environment's writer: the prefixes of the environments it promotes from, which it may read (accessPolicy). */
    readsFrom?: string[];
    /** IAM path of the user. Default: `/flux-bucket/`. */
    path?: pulumi.Input<string>;
    /** Tags on the user. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** An IAM user with an access key, allowed exactly the bucket actions of its access level (on a prefix, if given) and nothing else. */
export class BucketCredentials extends pulumi.ComponentResource {
    readonly user: aws.iam.User;
    readonly accessKeyId: pulumi.Output<string>;
    readonly secretAccessKey: pulumi.Output<string>;
    readonly policy: pulumi.Output<string>;

    constructor(name: string, args: BucketCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fluxbucket:aws:BucketCredentials", name, {}, opts);
        checkPrefix(args.prefix);
        const parent = { parent: this };

        this.user = new aws.iam.User(name, { path: args.path ?? "/flux-bucket/", tags: args.tags }, parent);
        this.policy = pulumi.output(args.bucketArn).apply((arn) => JSON.stringify(accessPolicy(arn, args.access, args.prefix, args.readsFrom)));
        const policy = new aws.iam.UserPolicy(name, { user: this.user.name, policy: this.policy }, parent);
        // The key is created after the policy so that it never exists with fewer rights than it will have.
        const key = new aws.iam.AccessKey(name, { user: this.user.name }, { parent: this, dependsOn: [policy] });

        this.accessKeyId = key.id;
        this.secretAccessKey = pulumi.secret(key.secret);
        this.registerOutputs({ accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey, policy: this.policy });
    }
}
